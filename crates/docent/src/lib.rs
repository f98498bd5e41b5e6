//! Docent: a self-hostable AI website-agent platform. This crate is the binary's library: the
//! configuration, the CLI commands, the HTTP API and the startup path shared with the tests.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod dev;
pub mod http;
pub mod jobs;
pub mod knowledge;
pub mod outbound;
pub mod seal;
pub mod tenancy;
pub mod tenant_cache;

pub use app::{App, Application, run};
pub use config::Config;
