//! A hand-built conversation history with known numbers, written through the store's bulk
//! import (so start times are chosen, not "now"), for the conversations, stats and export tests.

use docent_domain::analytics::{DAY_MS, Rating, day_floor};
use docent_domain::conversation::ToolExecution;
use docent_domain::{ConversationId, MessageId, SegmentId, Timestamp};
use docent_store::{ImportedConversation, ImportedMessage, NewConversation};
use docent_testkit::{TestApp, TestTenant};
use serde_json::{Value, json};

/// Today's UTC midnight.
pub fn today() -> i64 {
    day_floor(Timestamp::now().millis())
}

pub struct Spec<'a> {
    pub at: i64,
    pub channel: &'a str,
    pub segment: Option<&'a SegmentId>,
    pub page: Option<&'a str>,
    pub first: &'a str,
    pub messages: usize,
    pub tools: &'a [(&'a str, &'a str)],
    pub rating: Option<Rating>,
}

pub fn conversation(spec: &Spec<'_>, session: &str) -> ImportedConversation {
    let agent = spec.channel == "agent";
    let mut messages: Vec<ImportedMessage> = (0..spec.messages)
        .map(|i| ImportedMessage {
            id: MessageId::generate(),
            role: if i % 2 == 0 { "user" } else { "assistant" }.to_owned(),
            content: if i == 0 { spec.first.to_owned() } else { format!("message {i}") },
            created_at: Timestamp::from_millis(spec.at + i as i64 * 1_000),
            rating: None,
        })
        .collect();
    if let Some(last) = messages.iter_mut().rev().find(|m| m.role == "assistant") {
        last.rating = spec.rating;
    }
    let executions = spec
        .tools
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| ToolExecution {
            tool_name: (*name).to_owned(),
            tool_type: (*kind).to_owned(),
            input: json!({"email": "ann@example.com"}),
            result: json!({"ok": true}),
            success: true,
            summary: "done".to_owned(),
            created_at: Timestamp::from_millis(spec.at + 500 + i as i64),
        })
        .collect::<Vec<_>>();
    let escalated = spec.tools.iter().any(|(_, k)| *k == "ESCALATE_TO_HUMAN");
    ImportedConversation {
        id: ConversationId::generate(),
        conversation: NewConversation {
            session_id: session.to_owned(),
            visitor_id: None,
            segment_id: spec.segment.cloned(),
            channel: spec.channel.to_owned(),
            visitor_type: if agent { "agent" } else { "human" }.to_owned(),
            agent_model: agent.then(|| "claude-opus-4-7".to_owned()),
            page_url: spec.page.map(str::to_owned),
            metadata: json!({"userAgent": "Mozilla/5.0 test", "referrer": "https://google.com", "page": spec.page}),
        },
        status: if escalated { "escalated" } else { "active" }.to_owned(),
        started_at: Timestamp::from_millis(spec.at),
        messages,
        executions,
    }
}

/// The tenant `acme` with a `pricing` segment and five conversations:
///
/// | conv | started        | channel | segment | page                      | msgs | tools | vote |
/// |------|----------------|---------|---------|---------------------------|------|-------|------|
/// | c1   | today-2d 10:00 | web     | default | /pricing?x=1              | 4    | 2     | +    |
/// | c2   | today-2d 15:00 | web     | pricing | https://acme.test/pricing | 2    | 0     | -    |
/// | c3   | today-5d 09:00 | agent   | default | —                         | 6    | escalate | |
/// | c4   | today-40d      | web     | default | /                         | 2    | 0     |      |
/// | c5   | today-5d 11:00 | web     | default | /                         | 2    | 0     | +    |
pub struct Fixture {
    pub tenant: TestTenant,
    pub ids: Vec<String>,
}

pub async fn hand_built(app: &TestApp) -> Fixture {
    let tenant = app.tenant("acme").await;
    let pricing: Value = app
        .post("/tenants/acme/segments", json!({"name": "Pricing", "systemPrompt": "p"}))
        .bearer(&tenant.token)
        .send()
        .await
        .expect(201)
        .json();
    let store = &app.app.store;
    let acme = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let default = store.list_segments(&acme.id).await.unwrap().into_iter().find(|s| s.is_default).unwrap().id;
    let pricing = SegmentId::parse(pricing["id"].as_str().unwrap()).unwrap();
    let t = today();
    let h = 3_600_000;
    let specs = [
        Spec {
            at: t - 2 * DAY_MS + 10 * h,
            channel: "web",
            segment: Some(&default),
            page: Some("/pricing?x=1"),
            first: "What are your prices?",
            messages: 4,
            tools: &[("contact_form", "SUBMIT_FORM"), ("search_corpus", "EXPLORE_CORPUS")],
            rating: Some(Rating::Positive),
        },
        Spec {
            at: t - 2 * DAY_MS + 15 * h,
            channel: "web",
            segment: Some(&pricing),
            page: Some("https://acme.test/pricing"),
            first: "what are your PRICES",
            messages: 2,
            tools: &[],
            rating: Some(Rating::Negative),
        },
        Spec {
            at: t - 5 * DAY_MS + 9 * h,
            channel: "agent",
            segment: Some(&default),
            page: None,
            first: "Où est ma commande ?",
            messages: 6,
            tools: &[("escalate_to_human", "ESCALATE_TO_HUMAN")],
            rating: None,
        },
        Spec {
            at: t - 40 * DAY_MS,
            channel: "web",
            segment: Some(&default),
            page: Some("/"),
            first: "An old question",
            messages: 2,
            tools: &[],
            rating: None,
        },
        Spec {
            at: t - 5 * DAY_MS + 11 * h,
            channel: "web",
            segment: Some(&default),
            page: Some("/"),
            first: "  ou est   MA commande",
            messages: 2,
            tools: &[],
            rating: Some(Rating::Positive),
        },
    ];
    let batch: Vec<ImportedConversation> =
        specs.iter().enumerate().map(|(i, s)| conversation(s, &format!("s{}", i + 1))).collect();
    let ids = batch.iter().map(|c| c.id.to_string()).collect();
    store.import_conversations(&acme.id, batch).await.unwrap();
    Fixture { tenant, ids }
}
