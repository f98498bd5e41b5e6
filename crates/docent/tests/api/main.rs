//! The management API suite, run through the real router on SQLite and, when
//! `DOCENT_TEST_POSTGRES_URL` is set (always in CI), on PostgreSQL.

#![allow(clippy::unwrap_used)]

mod conversations;
mod errors;
mod exports;
mod feedback;
mod fixture;
mod knowledge;
mod matrix;
mod segments;
mod stats;
mod submissions;
mod tenants;
mod tokens;
mod tools;
mod visitors;
mod widget;
