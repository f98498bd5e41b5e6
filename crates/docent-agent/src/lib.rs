//! One chat turn, from the visitor's message to the persisted reply: context assembly
//! (`context`), the enrichment chain (`enrich`), the model loop (`turn`), tool executors
//! (`tools`), the agent-aware envelope (`envelope`) and the built-in offline engine (`builtin`).

pub mod builtin;
pub mod context;
pub mod enrich;
pub mod envelope;
pub mod tools;
pub mod turn;

pub use envelope::{Envelope, LlmSource, ToolExecutionView};
pub use turn::{AgentConfig, ResolvedLlm, TurnEvent, TurnFailure, TurnRequest, run_turn};
