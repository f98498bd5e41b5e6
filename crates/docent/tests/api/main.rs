//! The management API suite, run through the real router on SQLite and, when
//! `DOCENT_TEST_POSTGRES_URL` is set (always in CI), on PostgreSQL.

#![allow(clippy::unwrap_used)]

mod errors;
mod matrix;
mod segments;
mod tenants;
mod tokens;
mod tools;
mod visitors;
mod widget;
