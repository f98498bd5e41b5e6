//! `docent dev seed-conversations SLUG --count N`: realistic conversation history spread over
//! the last `--days` days (messages, tool history, feedback, pages, intents in English and
//! French with the spelling noise real visitors add), written through the store's bulk import
//! in large transactions, rollups included. Deterministic for a given `--seed`.

use std::time::Instant;

use anyhow::Context;
use docent_domain::analytics::{DAY_MS, Rating};
use docent_domain::conversation::{STATUS_ACTIVE, STATUS_ESCALATED, ToolExecution};
use docent_domain::segment::SegmentIn;
use docent_domain::{ConversationId, MessageId, SegmentId, Timestamp};
use docent_store::{ImportedConversation, ImportedMessage, NewConversation};
use serde_json::json;

use crate::app::App;

#[derive(Clone, Debug)]
pub struct SeedOptions {
    pub count: u64,
    pub days: u32,
    pub seed: u64,
    pub batch: usize,
}

const QUESTIONS: [&str; 24] = [
    "What are your prices?",
    "Do you offer a free trial?",
    "How do I cancel my subscription?",
    "Can I talk to a human?",
    "Where is my order?",
    "Do you ship to Canada?",
    "How do I reset my password?",
    "What is included in the Pro plan?",
    "Can I get a quote for 50 seats?",
    "Is my data stored in Europe?",
    "Do you integrate with Shopify?",
    "What are your opening hours?",
    "associations sportives près de Lyon",
    "comment faire un don déductible",
    "Quels sont vos tarifs ?",
    "Puis-je parler à un conseiller ?",
    "Où en est ma commande ?",
    "Proposez-vous une période d'essai ?",
    "Comment résilier mon abonnement ?",
    "Livrez-vous en Belgique ?",
    "How long does delivery take?",
    "Can I change my plan later?",
    "Do you have an API?",
    "Is there a discount for nonprofits?",
];

const FOLLOW_UPS: [&str; 8] = [
    "And for the Pro plan?",
    "Thanks, that helps.",
    "Can you send me the details by email?",
    "How long does it take?",
    "Is that per month?",
    "OK, and what about support?",
    "Merci beaucoup !",
    "Pouvez-vous préciser ?",
];

const ANSWERS: [&str; 6] = [
    "Hello! We offer three plans: Starter, Pro and Enterprise. Which one would you like to know more about?",
    "Sure. Everything is explained on our pricing page; the Pro plan includes priority support.",
    "I can help with that. Could you give me your email so that the team gets back to you?",
    "Delivery usually takes two to four business days.",
    "Bien sûr ! Voici les informations demandées.",
    "I don't have that information, but I can put you in touch with the team.",
];

const PAGES: [&str; 10] = [
    "/",
    "/pricing",
    "/pricing?plan=pro",
    "/contact",
    "/docs/getting-started",
    "/blog/launch",
    "/pages/associations-sante",
    "/fr/tarifs",
    "/checkout",
    "/faq",
];

const TOOLS: [(&str, &str); 5] = [
    ("contact_form", "SUBMIT_FORM"),
    ("remember_fact", "REMEMBER_FACT"),
    ("search_corpus", "EXPLORE_CORPUS"),
    ("generate_quote", "GENERATE_QUOTE"),
    ("escalate_to_human", "ESCALATE_TO_HUMAN"),
];

/// SplitMix64: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The noise visitors add: case, spacing, punctuation.
fn variant(rng: &mut Rng, question: &str) -> String {
    match rng.below(6) {
        0 => question.to_lowercase(),
        1 => format!("  {}", question.trim_end_matches(['?', '!', ' '])),
        2 => question.replace(' ', "  "),
        3 => format!("{}!!", question.trim_end_matches('?')),
        _ => question.to_owned(),
    }
}

fn conversation(rng: &mut Rng, run: &str, i: u64, started_at: i64, segments: &[SegmentId]) -> ImportedConversation {
    let agent = rng.chance(15);
    let page = (!agent || rng.chance(50)).then(|| rng.pick(&PAGES).to_string());
    let segment = rng.pick(segments).clone();
    let turns = 1 + rng.below(8) + rng.below(2);
    let mut at = started_at;
    let mut messages = Vec::with_capacity(turns as usize * 2);
    for t in 0..turns {
        let content = if t == 0 {
            let question = rng_question(rng);
            variant(rng, question)
        } else {
            rng.pick(&FOLLOW_UPS).to_string()
        };
        messages.push(message("user", content, at));
        at += 2_000 + rng.below(6_000) as i64;
        messages.push(message("assistant", rng.pick(&ANSWERS).to_string(), at));
        at += 20_000 + rng.below(90_000) as i64;
    }
    let mut executions = Vec::new();
    if rng.chance(30) {
        for _ in 0..1 + rng.below(3) {
            let (name, kind) = *rng.pick(&TOOLS);
            executions.push(ToolExecution {
                tool_name: name.to_owned(),
                tool_type: kind.to_owned(),
                input: json!({"email": format!("visitor{i}@example.com")}),
                result: json!({"ok": true}),
                success: rng.chance(95),
                summary: format!("{kind} done"),
                created_at: Timestamp::from_millis(started_at + 30_000),
            });
        }
    }
    let escalated = executions.iter().any(|e| e.tool_type == "ESCALATE_TO_HUMAN");
    if rng.chance(20)
        && let Some(last) = messages.iter_mut().rev().find(|m| m.role == "assistant")
    {
        last.rating = Some(if rng.chance(75) { Rating::Positive } else { Rating::Negative });
    }
    ImportedConversation {
        id: ConversationId::generate(),
        conversation: NewConversation {
            session_id: format!("seed-{run}-{i}"),
            visitor_id: None,
            segment_id: Some(segment),
            channel: if agent { "agent" } else { "web" }.to_owned(),
            visitor_type: if agent { "agent" } else { "human" }.to_owned(),
            agent_model: agent.then(|| "claude-opus-4-7".to_owned()),
            metadata: json!({
                "userAgent": if agent { "python-httpx/0.27" } else { "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" },
                "referrer": if rng.chance(40) { Some("https://www.google.com/") } else { None },
                "page": page.clone(),
            }),
            page_url: page,
        },
        status: if escalated { STATUS_ESCALATED } else { STATUS_ACTIVE }.to_owned(),
        started_at: Timestamp::from_millis(started_at),
        messages,
        executions,
    }
}

fn rng_question(rng: &mut Rng) -> &'static str {
    // A few questions are much more common than the rest, as on real sites.
    let i = if rng.chance(40) { rng.below(4) } else { rng.below(QUESTIONS.len() as u64) };
    QUESTIONS[i as usize]
}

fn message(role: &str, content: String, at: i64) -> ImportedMessage {
    ImportedMessage {
        id: MessageId::generate(),
        role: role.to_owned(),
        content,
        created_at: Timestamp::from_millis(at),
        rating: None,
    }
}

/// The tenant's segments, adding `pricing` and `support` when it has only its default one.
async fn segments(app: &App, tenant: &docent_domain::tenant::Tenant) -> anyhow::Result<Vec<SegmentId>> {
    let mut all = app.store.list_segments(&tenant.id).await?;
    if all.len() < 2 {
        for name in ["Pricing", "Support"] {
            let new = SegmentIn {
                name: name.to_owned(),
                system_prompt: format!("You answer {} questions.", name.to_lowercase()),
                welcome_message: None,
                conversation_starters: Vec::new(),
                is_active: true,
            };
            all.push(app.store.create_segment(&tenant.id, new).await?);
        }
    }
    Ok(all.into_iter().map(|s| s.id).collect())
}

/// Writes `count` conversations in chronological order (so that each batch touches few rollup
/// days) and returns how long it took.
pub async fn seed_conversations(app: &App, slug: &str, opts: &SeedOptions) -> anyhow::Result<std::time::Duration> {
    let tenant = app.store.tenant_by_slug(slug).await?.with_context(|| format!("no tenant `{slug}`"))?;
    let segments = segments(app, &tenant).await?;
    let mut rng = Rng(opts.seed);
    let run = docent_domain::secret::random_base62(6);
    let span = i64::from(opts.days.max(1)) * DAY_MS;
    let start = Timestamp::now().millis() - span;
    let step = span / i64::try_from(opts.count.max(1)).unwrap_or(i64::MAX);
    let began = Instant::now();
    let mut i = 0;
    while i < opts.count {
        let n = (opts.batch as u64).min(opts.count - i);
        let batch: Vec<ImportedConversation> = (i..i + n)
            .map(|k| {
                let at = start + i64::try_from(k).unwrap_or(0) * step + rng.below(step.max(1) as u64) as i64;
                conversation(&mut rng, &run, k, at, &segments)
            })
            .collect();
        app.store.import_conversations(&tenant.id, batch).await?;
        i += n;
        if i % 50_000 < n || i == opts.count {
            let secs = began.elapsed().as_secs_f64();
            eprintln!("{i} conversations in {secs:.1} s ({:.0}/s)", i as f64 / secs.max(0.001));
        }
    }
    Ok(began.elapsed())
}
