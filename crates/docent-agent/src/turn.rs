//! One chat turn: assemble the context, call the model, stream its text out as it comes, run the
//! tools it calls and feed their results back, for a bounded number of rounds; then persist the
//! reply, the tool history and the conversation's new state in one transaction before the
//! `done` event. A client that leaves mid-stream stops the model and keeps what was said
//! (marked `interrupted`); a model failure keeps the user's message and stores no half-answer
//! as complete.

use std::sync::Arc;
use std::time::Duration;

use docent_domain::conversation::{Conversation, MESSAGE_COMPLETE, MESSAGE_INTERRUPTED, StoredMessage, ToolExecution};
use docent_domain::segment::Segment;
use docent_domain::tenant::Tenant;
use docent_domain::tool::ToolType;
use docent_domain::visitor::MemoryFact;
use docent_domain::{MessageId, Timestamp, VisitorId};
use docent_llm::{
    ChatRequest, FaultClass, Idle, IdleTimeout, LlmError, LlmProvider, Message, Snippet, StreamEvent, ToolCall,
};
use docent_store::{FinishTurn, Store};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::context::{self, PromptParts, estimate_tokens, system_prompt};
use crate::enrich::Offer;
use crate::envelope::{Envelope, LlmSource, ToolExecutionView};
use crate::tools::{self, OfferedTool, Outcome};

#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Model calls per turn, tool rounds included.
    pub max_rounds: u32,
    /// The context budget in (estimated) tokens: system prompt, tools and history together.
    pub context_tokens: usize,
    pub max_output_tokens: u32,
    /// Attempts per model call for retryable failures before the first event.
    pub attempts: u32,
    pub backoff: Duration,
    /// The longest wait for the model's next event before the turn fails (504).
    pub idle_timeout: Duration,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            max_rounds: 4,
            context_tokens: 16_000,
            max_output_tokens: 1_024,
            attempts: 3,
            backoff: Duration::from_millis(250),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The model a turn uses, resolved by the HTTP layer.
#[derive(Clone)]
pub struct ResolvedLlm {
    pub source: LlmSource,
    pub provider: Arc<dyn LlmProvider>,
    /// The model asked for; `None` for providers without one (webhook, builtin default).
    pub model: Option<String>,
}

pub struct TurnRequest {
    /// Shared with the tenant's cached configuration, as `segment` is.
    pub tenant: Arc<Tenant>,
    /// The tools this turn offers (the enrichment chain's result for the segment).
    pub offer: Arc<Offer>,
    pub segment: Arc<Segment>,
    pub conversation: Conversation,
    /// The conversation's messages, oldest first, the visitor's new one last.
    pub history: Vec<StoredMessage>,
    pub agent_model: Option<String>,
    pub visitor_id: Option<VisitorId>,
    pub page_url: Option<String>,
    pub page_context: Option<Value>,
    pub locale: String,
    pub llm: ResolvedLlm,
    /// The corpus snippets retrieved for the message; taken when the model request is built.
    pub knowledge: Arc<[Snippet]>,
    /// The search indexes executors query (EXPLORE_CORPUS, RECOMMEND_PRODUCT).
    pub search: Arc<docent_search::Knowledge>,
}

/// What a turn reports to its response. 24 bytes, a `String`'s size (the last two are boxed):
/// the channel of every open stream holds its slots in blocks of 32.
#[derive(Debug)]
pub enum TurnEvent {
    Text(String),
    Done(Box<Envelope>),
    Failed(Box<TurnFailure>),
}

const _: () = assert!(std::mem::size_of::<TurnEvent>() == std::mem::size_of::<String>());

#[derive(Debug, Clone)]
pub struct TurnFailure {
    pub class: FaultClass,
    pub message: String,
}

/// What executors may touch during a turn.
pub struct TurnScope<'a> {
    pub store: &'a dyn Store,
    pub knowledge: &'a docent_search::Knowledge,
    pub tenant: &'a Tenant,
    pub segment: &'a Segment,
    pub conversation: &'a Conversation,
    pub visitor_id: Option<VisitorId>,
    /// A session visitor created during this turn, to link to the conversation.
    pub created_visitor: Option<VisitorId>,
}

#[derive(Default)]
struct Progress {
    text: String,
    executions: Vec<ToolExecution>,
    views: Vec<ToolExecutionView>,
    contact_submitted: bool,
    escalated: bool,
    served_model: Option<String>,
}

enum Stop {
    Finished,
    ClientGone,
    Failed(LlmError),
}

/// Runs the turn, sending events to `events`; returns when the turn is persisted.
///
/// The future is built from a block rather than an `async fn`: an `async fn`'s future keeps its
/// arguments twice (as given and as moved into its body; rust-lang/rust#62958), and this one
/// lives as long as the turn's stream, for every stream open at once.
#[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice (above)")]
pub fn run_turn(
    store: Arc<dyn Store>,
    config: AgentConfig,
    mut req: TurnRequest,
    events: mpsc::Sender<TurnEvent>,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        let memory = match &req.visitor_id {
            Some(v) => store.list_memory(&req.tenant.id, v).await.unwrap_or_default(),
            None => Vec::new(),
        };
        let offered = &req.offer.tools[..];
        let history = std::mem::take(&mut req.history);
        let snippets = std::mem::take(&mut req.knowledge);
        let mut request = build_request(&config, &req, history, snippets, &memory);
        let mut scope = TurnScope {
            store: store.as_ref(),
            knowledge: req.search.as_ref(),
            tenant: &req.tenant,
            segment: &req.segment,
            conversation: &req.conversation,
            visitor_id: req.visitor_id.clone(),
            created_visitor: None,
        };
        let mut progress = Progress::default();
        let stop = run_rounds(&config, &req.llm, &mut request, offered, &mut scope, &mut progress, &events).await;
        let created_visitor = scope.created_visitor.clone();
        let message_id = MessageId::generate();
        let assistant = match &stop {
            Stop::Finished => Some((message_id.clone(), progress.text.clone(), MESSAGE_COMPLETE)),
            Stop::ClientGone | Stop::Failed(_) if !progress.text.is_empty() => {
                Some((message_id.clone(), progress.text.clone(), MESSAGE_INTERRUPTED))
            }
            _ => None,
        };
        let finish = FinishTurn {
            conversation_id: req.conversation.id.clone(),
            assistant,
            executions: std::mem::take(&mut progress.executions),
            escalated: progress.escalated,
            visitor_id: created_visitor,
        };
        let saved = store.finish_turn(&req.tenant.id, finish).await;
        let event = match (stop, saved) {
            (Stop::ClientGone, _) => return,
            (Stop::Failed(e), _) => TurnEvent::Failed(Box::new(TurnFailure { class: e.class, message: e.message })),
            (Stop::Finished, Err(e)) => {
                tracing::error!(error = %e, "could not persist a chat turn");
                TurnEvent::Failed(Box::new(TurnFailure {
                    class: FaultClass::Bug,
                    message: "the reply could not be saved".into(),
                }))
            }
            (Stop::Finished, Ok(conversation)) => {
                TurnEvent::Done(Box::new(envelope(&req, conversation, progress, message_id)))
            }
        };
        let _ = events.send(event).await;
    }
}

fn envelope(req: &TurnRequest, conversation: Conversation, p: Progress, message_id: MessageId) -> Envelope {
    Envelope {
        message: p.text,
        message_id: message_id.to_string(),
        session_id: conversation.session_id,
        conversation_id: conversation.public_id,
        message_count: conversation.message_count,
        visitor_type: if req.agent_model.is_some() { "agent" } else { "human" },
        agent_model: req.agent_model.clone(),
        tool_results: Envelope::tool_results_of(&p.views),
        tool_executions: p.views,
        contact_submitted: p.contact_submitted,
        status: (p.escalated || conversation.status == docent_domain::conversation::STATUS_ESCALATED)
            .then_some("escalated"),
        llm_source: req.llm.source,
        llm_provider: req.llm.provider.name().to_owned(),
        llm_model: p.served_model.or_else(|| req.llm.model.clone()),
    }
}

/// The model request for the turn; `history` is the conversation's (moved into the request),
/// `snippets` the turn's knowledge: rendered into the prompt, and kept in the request only for
/// a provider that reads them, so an open stream does not hold them twice.
fn build_request(
    config: &AgentConfig,
    req: &TurnRequest,
    history: Vec<StoredMessage>,
    snippets: Arc<[Snippet]>,
    memory: &[MemoryFact],
) -> ChatRequest {
    let system = system_prompt(&PromptParts {
        tenant: &req.tenant,
        segment: &req.segment,
        locale: &req.locale,
        agent_model: req.agent_model.as_deref(),
        page_url: req.page_url.as_deref(),
        page_context: req.page_context.as_ref(),
        memory,
        knowledge: &snippets,
    });
    let fixed = estimate_tokens(&system) + req.offer.tokens + config.max_output_tokens as usize;
    let messages = context::history(history, config.context_tokens.saturating_sub(fixed));
    // Visitor memory, when there is some, makes a list of its own.
    let knowledge = if !req.llm.provider.reads_knowledge() {
        Arc::default()
    } else if memory.is_empty() {
        snippets
    } else {
        let facts = memory.iter().map(|f| Snippet {
            id: format!("memory:{}", f.key),
            title: f.key.clone(),
            content: f.value.clone(),
        });
        snippets.iter().cloned().chain(facts).collect()
    };
    ChatRequest {
        model: req.llm.model.clone().unwrap_or_default(),
        system,
        messages,
        tools: req.offer.specs.clone(),
        max_tokens: config.max_output_tokens,
        temperature: None,
        knowledge,
        tool_choice: Default::default(),
    }
}

async fn run_rounds(
    config: &AgentConfig,
    llm: &ResolvedLlm,
    request: &mut ChatRequest,
    offered: &[OfferedTool],
    scope: &mut TurnScope<'_>,
    progress: &mut Progress,
    events: &mpsc::Sender<TurnEvent>,
) -> Stop {
    for round in 0..config.max_rounds {
        let opened = tokio::time::timeout(config.idle_timeout, open_stream(config, llm.provider.as_ref(), request));
        let mut stream = match opened.await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Stop::Failed(e),
            Err(_) => return Stop::Failed(timed_out(llm)),
        };
        // This round's text is what the reply gained in it.
        let round_start = progress.text.len();
        let mut calls: Vec<ToolCall> = Vec::new();
        let mut idle = IdleTimeout::new(config.idle_timeout);
        loop {
            let event = match idle.next(&mut stream).await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(Idle) => return Stop::Failed(timed_out(llm)),
            };
            match event {
                Ok(StreamEvent::Text(t)) => {
                    progress.text.push_str(&t);
                    if events.send(TurnEvent::Text(t)).await.is_err() {
                        return Stop::ClientGone;
                    }
                }
                Ok(StreamEvent::ToolCall(call)) => calls.push(call),
                Ok(StreamEvent::Done { model, .. }) => {
                    if model.is_some() {
                        progress.served_model = model;
                    }
                }
                Err(e) => return Stop::Failed(e),
            }
        }
        if calls.is_empty() {
            return Stop::Finished;
        }
        if round + 1 == config.max_rounds {
            // Out of rounds: the model's last words stand; the calls are not run.
            return Stop::Finished;
        }
        let text = progress.text[round_start..].to_owned();
        request.messages.push(Message::Assistant { text, tool_calls: calls.clone() });
        for call in calls {
            // Boxed: a tool's future (webhooks, MCP, email) would otherwise size every turn's task.
            let (offered_tool, outcome) = Box::pin(execute(scope, offered, &call)).await;
            record(progress, &call, offered_tool, &outcome);
            request.messages.push(Message::Tool {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content: outcome.for_model.clone(),
                is_error: !outcome.success,
            });
        }
    }
    Stop::Finished
}

fn timed_out(llm: &ResolvedLlm) -> LlmError {
    LlmError::new(FaultClass::Timeout, llm.provider.name(), "the model did not answer in time")
}

async fn open_stream(
    config: &AgentConfig,
    provider: &dyn LlmProvider,
    request: &ChatRequest,
) -> Result<docent_llm::LlmStream, LlmError> {
    let mut attempt = 1;
    loop {
        match provider.stream(request).await {
            Ok(s) => return Ok(s),
            Err(e) if e.is_retryable() && attempt < config.attempts => {
                let backoff = config.backoff * 2u32.pow(attempt - 1);
                let wait = e.retry_after.map_or(backoff, |hint| hint.min(Duration::from_secs(5)).max(backoff));
                tracing::debug!(error = %e, attempt, "retrying the model call");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn execute<'o>(
    scope: &mut TurnScope<'_>,
    offered: &'o [OfferedTool],
    call: &ToolCall,
) -> (Option<&'o OfferedTool>, Outcome) {
    let Some(tool) = offered.iter().find(|t| t.name == call.name) else {
        return (None, Outcome::failure(format!("Unknown tool {}", call.name), "No such tool; answer without it."));
    };
    let outcome = match (tool.tool_type, &tool.tool) {
        (ToolType::SubmitForm, Some(t)) => tools::form::execute(scope, t, &call.arguments).await,
        (ToolType::RememberFact, _) => tools::memory::execute(scope, &call.arguments).await,
        (ToolType::EscalateToHuman, Some(t)) => tools::escalate::execute(scope, t, &call.arguments).await,
        (ToolType::GenerateQuote, Some(t)) => tools::quote::execute(scope, t, &call.arguments).await,
        (ToolType::ExploreCorpus, _) => tools::explore::execute(scope, &call.arguments).await,
        (ToolType::RecommendProduct, _) => tools::recommend::execute(scope, &call.arguments).await,
        _ => Outcome::failure(format!("{} is not available", call.name), "This tool is not available now."),
    };
    (Some(tool), outcome)
}

fn record(progress: &mut Progress, call: &ToolCall, tool: Option<&OfferedTool>, outcome: &Outcome) {
    let now = Timestamp::now();
    let tool_type = tool.map_or("UNKNOWN", |t| t.tool_type.as_str()).to_owned();
    progress.executions.push(ToolExecution {
        tool_name: call.name.clone(),
        tool_type: tool_type.clone(),
        input: call.arguments.clone(),
        result: outcome.result.clone(),
        success: outcome.success,
        summary: outcome.summary.clone(),
        created_at: now,
    });
    progress.views.push(ToolExecutionView {
        name: call.name.clone(),
        tool_type,
        success: outcome.success,
        summary: outcome.summary.clone(),
        data: outcome.data.clone(),
        timestamp: now,
    });
    progress.contact_submitted |= outcome.contact_submitted;
    progress.escalated |= outcome.escalated;
}
