//! Docent's domain: the entities every other crate speaks in, their IDs and timestamps, and the
//! validation rules of the public API. Nothing here does IO.

pub mod analytics;
pub mod conversation;
pub mod corpus;
pub mod id;
pub mod plan;
pub mod product;
pub mod quote;
pub mod scope;
pub mod secret;
pub mod segment;
pub mod slug;
pub mod tenant;
pub mod text;
pub mod timestamp;
pub mod token;
pub mod tool;
pub mod validate;
pub mod visitor;
pub mod webhook;

pub use id::*;
pub use timestamp::Timestamp;
pub use validate::ValidationError;
