//! The retrieval evaluation: loads the labelled set of `eval/` (an English and a French
//! corpus, and questions with the keys of the entries that answer them) into two fresh tenants,
//! then measures what search ranks (recall@1, recall@5, MRR over answerable questions) and what
//! the built-in engine answers (how often it says it does not know when the answer is absent,
//! and how often it answers when it is there). `docent eval retrieval` prints it; a test holds
//! the floors.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use docent_agent::builtin::Builtin;
use docent_domain::segment::SegmentIn;
use docent_domain::tenant::{Tenant, TenantPatch};
use docent_llm::{ChatRequest, LlmProvider, Message, StreamEvent};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::import::Format;
use crate::app::App;
use crate::tenancy::{CreateTenant, create_tenant};

#[derive(Deserialize)]
struct Question {
    id: String,
    lang: String,
    question: String,
    expected: Vec<String>,
    kind: String,
    segment: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalReport {
    pub entries: usize,
    pub questions: usize,
    pub answerable: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
    pub absent: usize,
    /// Share of absent questions the built-in engine answers as unknown.
    pub absent_unknown: f64,
    /// Share of answerable questions the built-in engine answers (does not say it does not know).
    pub answered: f64,
    /// Answerable questions whose expected entry is not in the top 5.
    pub misses: Vec<String>,
    /// Absent questions the engine answered anyway.
    pub false_answers: Vec<String>,
}

async fn tenant_for(app: &App, slug: &str, locale: &str, corpus: &Path) -> anyhow::Result<Tenant> {
    create_tenant(
        app,
        CreateTenant { slug: slug.to_owned(), name: slug.to_owned(), plan: None, parent_id: None, is_activated: true },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let tenant = app.store.tenant_by_slug(slug).await?.context("tenant vanished")?;
    let patch = TenantPatch { locale: Some(locale.to_owned()), ..Default::default() };
    let tenant = app.store.update_tenant(&tenant.id, &patch.apply(&tenant, |s| s.to_owned())?).await?;
    for name in ["Support", "Sales"] {
        let segment = SegmentIn {
            name: name.to_owned(),
            system_prompt: format!("{name} assistant"),
            welcome_message: None,
            conversation_starters: Vec::new(),
            is_active: true,
        };
        app.store.create_segment(&tenant.id, segment).await?;
    }
    let body = std::fs::read(corpus).with_context(|| format!("reading {}", corpus.display()))?;
    super::import_corpus(app, &tenant, &body, Format::Ndjson).await.map_err(|f| {
        anyhow::anyhow!("import of {} rejected: {:?}", corpus.display(), f.rejected.iter().take(3).collect::<Vec<_>>())
    })?;
    Ok(tenant)
}

async fn builtin_says_unknown(
    knowledge: Vec<docent_llm::Snippet>,
    question: &str,
    locale: &str,
) -> anyhow::Result<bool> {
    let engine = Builtin { welcome: None, locale: locale.to_owned() };
    let request = ChatRequest {
        model: String::new(),
        system: String::new(),
        messages: vec![Message::User { text: question.to_owned() }],
        tools: Default::default(),
        max_tokens: 512,
        temperature: None,
        knowledge: knowledge.into(),
        tool_choice: Default::default(),
    };
    let mut stream = engine.stream(&request).await?;
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        if let StreamEvent::Text(t) = event? {
            text.push_str(&t);
        }
    }
    Ok(text.starts_with("I don't know") || text.starts_with("Je ne sais pas"))
}

pub async fn run(app: &App, dir: &Path) -> anyhow::Result<EvalReport> {
    let en = tenant_for(app, "eval-en", "en", &dir.join("corpus_en.ndjson")).await?;
    let fr = tenant_for(app, "eval-fr", "fr", &dir.join("corpus_fr.ndjson")).await?;
    let questions: Vec<Question> = serde_json::from_slice(&std::fs::read(dir.join("questions.json"))?)?;
    let mut report = EvalReport { questions: questions.len(), ..Default::default() };
    let mut keys: HashMap<String, String> = HashMap::new();
    for tenant in [&en, &fr] {
        let entries = app.store.corpus_after(&tenant.id, "", 100_000).await?;
        report.entries += entries.len();
        keys.extend(entries.into_iter().filter_map(|e| Some((e.id.to_string(), e.key?))));
    }
    let (mut r1, mut r5, mut rr, mut answered, mut unknown_absent) = (0usize, 0usize, 0f64, 0usize, 0usize);
    for q in &questions {
        let (tenant, locale) = if q.lang == "fr" { (&fr, "fr") } else { (&en, "en") };
        let segment = match q.segment.as_deref() {
            Some(slug) => app.store.segment_by_slug(&tenant.id, slug).await?.context("eval segment")?,
            None => app
                .store
                .list_segments(&tenant.id)
                .await?
                .into_iter()
                .find(|s| s.is_default)
                .context("default segment")?,
        };
        let hits = app
            .knowledge
            .search_corpus(app.store.as_ref(), tenant, None, Some(segment.id.as_str()), &q.question, 10)
            .await?;
        let rank = hits.iter().position(|h| keys.get(&h.id).is_some_and(|k| q.expected.contains(k)));
        let chat = app.tenants.get(app.store.as_ref(), &tenant.slug).await?.context("eval tenant")?;
        let knowledge = super::retrieve(app, &chat, &segment.id, &q.question, false).await;
        let unknown = builtin_says_unknown(knowledge, &q.question, locale).await?;
        if q.kind == "absent" || q.expected.is_empty() {
            report.absent += 1;
            if unknown {
                unknown_absent += 1;
            } else {
                report.false_answers.push(format!("{}: {}", q.id, q.question));
            }
            continue;
        }
        report.answerable += 1;
        answered += usize::from(!unknown);
        match rank {
            Some(0) => {
                r1 += 1;
                r5 += 1;
                rr += 1.0;
            }
            Some(r) => {
                if r < 5 {
                    r5 += 1;
                } else {
                    report.misses.push(format!("{} (rank {}): {}", q.id, r + 1, q.question));
                }
                rr += 1.0 / (r + 1) as f64;
            }
            None => report.misses.push(format!("{} (not found): {}", q.id, q.question)),
        }
    }
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    report.recall_at_1 = share(r1, report.answerable);
    report.recall_at_5 = share(r5, report.answerable);
    report.mrr = if report.answerable == 0 { 0.0 } else { rr / report.answerable as f64 };
    report.absent_unknown = share(unknown_absent, report.absent);
    report.answered = share(answered, report.answerable);
    Ok(report)
}
