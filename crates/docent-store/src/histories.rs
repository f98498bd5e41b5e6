//! The newest messages of recent conversations as this process saw them committed, so a turn's
//! start can skip reading its conversation's history back when nothing else wrote to it since.
//!
//! An entry states a fact about the past: at some moment the conversation held exactly `count`
//! messages, and `messages` are its newest (up to `TURN_HISTORY_LIMIT`) in the order the store
//! reads them. Messages are only ever added to a conversation, each with its count moved in the
//! same transaction, and a deleted conversation's id never comes back. So when a later
//! transaction finds the conversation at `count + n` after adding `n` messages itself, the
//! conversation is exactly the entry's messages and those: the check is made in the database, in
//! the transaction that wrote, which keeps it right for any number of processes on one database
//! and for any order in which their answers come back. Anything else is a miss, and the history
//! is read as before.

use std::sync::{Arc, Mutex};

use docent_domain::conversation::StoredMessage;
use docent_domain::{ConversationId, TenantId};
use hashlink::LinkedHashMap;

/// What the cache holds for one conversation (see the module's head).
#[derive(Clone, Debug)]
pub(crate) struct Known {
    pub conversation: ConversationId,
    pub count: u64,
    pub messages: Arc<[Arc<StoredMessage>]>,
}

impl Known {
    pub fn new(conversation: ConversationId, count: u64, messages: Vec<StoredMessage>) -> Self {
        Self { conversation, count, messages: messages.into_iter().map(Arc::new).collect() }
    }

    /// The entry after `added` messages joined the conversation: in the store's order (creation
    /// time, then id; a clock that stepped back can put one before the last), the newest
    /// `TURN_HISTORY_LIMIT` kept.
    pub fn extended(&self, added: impl IntoIterator<Item = StoredMessage>) -> Self {
        let mut messages = self.messages.to_vec();
        let mut count = self.count;
        for m in added {
            let at = messages.partition_point(|k| (k.created_at, &k.id) <= (m.created_at, &m.id));
            messages.insert(at, Arc::new(m));
            count += 1;
        }
        let over = messages.len().saturating_sub(crate::TURN_HISTORY_LIMIT);
        messages.drain(..over);
        Self { conversation: self.conversation.clone(), count, messages: messages.into() }
    }

    /// The messages as a turn's start returns them.
    pub fn to_history(&self) -> Vec<StoredMessage> {
        self.messages.iter().map(|m| StoredMessage::clone(m)).collect()
    }

    /// Roughly what the entry holds in memory.
    fn bytes(&self) -> usize {
        const PER_MESSAGE: usize = 160;
        self.messages.iter().map(|m| PER_MESSAGE + m.id.as_str().len() + m.content.len()).sum::<usize>() + 128
    }
}

type Key = (TenantId, String);

/// The conversations' entries by tenant and session, the least recently used dropped first once
/// they hold more than the budget.
pub(crate) struct Histories {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: LinkedHashMap<Key, (Known, usize)>,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, key: &Key) {
        if let Some((_, size)) = self.entries.remove(key) {
            self.bytes -= size;
        }
    }
}

/// What the cache may hold: about a thousand conversations of twenty short messages.
pub(crate) const HISTORIES_BUDGET: usize = 4 << 20;

impl Histories {
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entry of the conversation of `session`, if there is one (now the most recently used).
    pub fn get(&self, tenant: &TenantId, session: &str) -> Option<Known> {
        let mut inner = self.lock();
        let key = (tenant.clone(), session.to_owned());
        let (known, _) = inner.entries.to_back(&key)?;
        Some(known.clone())
    }

    /// Records `known` as the conversation of `session`, in place of what was there.
    pub fn put(&self, tenant: &TenantId, session: &str, known: Known) {
        let size = known.bytes() + session.len();
        let key = (tenant.clone(), session.to_owned());
        let mut inner = self.lock();
        inner.remove(&key);
        if size > self.budget / 8 {
            return;
        }
        while inner.bytes + size > self.budget {
            let Some((_, (_, dropped))) = inner.entries.pop_front() else { break };
            inner.bytes -= dropped;
        }
        inner.bytes += size;
        inner.entries.insert(key, (known, size));
    }

    pub fn forget(&self, tenant: &TenantId, session: &str) {
        self.lock().remove(&(tenant.clone(), session.to_owned()));
    }

    /// Drops every entry of `tenant` (after its conversations were deleted: what they said is
    /// not kept in memory either).
    pub fn forget_tenant(&self, tenant: &TenantId) {
        let mut inner = self.lock();
        let mut freed = 0;
        inner.entries.retain(|(t, _), (_, size)| {
            let keep = t != tenant;
            if !keep {
                freed += *size;
            }
            keep
        });
        inner.bytes -= freed;
    }
}

impl Default for Histories {
    fn default() -> Self {
        Self::new(HISTORIES_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docent_domain::{MessageId, Timestamp};

    fn message(at: i64, content: &str) -> StoredMessage {
        StoredMessage {
            id: MessageId::generate(),
            role: "user".into(),
            content: content.into(),
            status: "complete".into(),
            created_at: Timestamp::from_millis(at),
        }
    }

    fn known(messages: Vec<StoredMessage>) -> Known {
        let count = messages.len() as u64;
        Known::new(ConversationId::generate(), count, messages)
    }

    #[test]
    fn added_messages_take_the_stores_order_and_the_oldest_past_the_limit_go() {
        let start = known((0..crate::TURN_HISTORY_LIMIT as i64).map(|i| message(10 + i, "m")).collect());
        let late = message(1_000, "late");
        let stepped_back = message(15, "stepped back");
        let next = start.extended([late.clone(), stepped_back.clone()]);
        assert_eq!(next.count, start.count + 2);
        assert_eq!(next.messages.len(), crate::TURN_HISTORY_LIMIT);
        let history = next.to_history();
        assert_eq!(history.last(), Some(&late));
        assert!(history.windows(2).all(|w| (w[0].created_at, &w[0].id) <= (w[1].created_at, &w[1].id)));
        // The two oldest went; the one from a clock that stepped back sits in its place.
        assert_eq!(history[0].created_at, Timestamp::from_millis(12));
        assert!(history.contains(&stepped_back));
    }

    #[test]
    fn the_least_recently_used_go_once_the_budget_is_full() {
        let tenant = TenantId::generate();
        let one = known(vec![message(1, &"x".repeat(400))]);
        let size = one.bytes() + 2; // and the session's name
        // Eight entries fill the budget (an entry may take an eighth of it).
        let cache = Histories::new(size * 8);
        let sessions: Vec<String> = (1..=9).map(|i| format!("s{i}")).collect();
        for s in &sessions[..8] {
            cache.put(&tenant, s, one.clone());
        }
        assert!(cache.get(&tenant, "s1").is_some(), "s1 is now the most recently used");
        cache.put(&tenant, "s9", one.clone());
        assert!(cache.get(&tenant, "s2").is_none(), "the least recently used went");
        for s in sessions.iter().filter(|s| *s != "s2") {
            assert!(cache.get(&tenant, s).is_some(), "{s} stays");
        }
        assert!(cache.lock().bytes <= size * 8);
        // An entry too big for its share of the budget is not kept, and replaces nothing stale.
        cache.put(&tenant, "s1", known(vec![message(1, &"y".repeat(size))]));
        assert!(cache.get(&tenant, "s1").is_none());
    }

    #[test]
    fn a_tenants_entries_can_all_be_dropped() {
        let (a, b) = (TenantId::generate(), TenantId::generate());
        let cache = Histories::default();
        cache.put(&a, "s", known(vec![message(1, "a")]));
        cache.put(&b, "s", known(vec![message(1, "b")]));
        cache.forget_tenant(&a);
        assert!(cache.get(&a, "s").is_none());
        assert!(cache.get(&b, "s").is_some());
        cache.forget(&b, "s");
        assert_eq!(cache.lock().bytes, 0);
    }
}
