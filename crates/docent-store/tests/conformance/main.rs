//! The `Store` conformance suite: one generic set of behaviours, instantiated for SQLite (always)
//! and PostgreSQL (when `DOCENT_TEST_POSTGRES_URL` is set; always in CI) by `store_test_suite!`,
//! like quickwit's `metastore_test_suite!`. A behaviour that is not here is not guaranteed.
//! The behaviours live in one file per concept (`tenants`, `tools`, `visitors`, `quotes`, `turns`).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use docent_domain::quote::{self, NewQuote, PricingGrid};
use docent_domain::scope::Scope;
use docent_domain::segment::{ConversationStarter, Segment, SegmentIn};
use docent_domain::tenant::{BotTone, NewTenant, Tenant};
use docent_domain::token::NewToken;
use docent_domain::tool::{ToolFields, ToolType};
use docent_domain::visitor::{MemoryFact, Visitor, VisitorFields, VisitorQuery};
use docent_domain::{SegmentId, TenantId, Timestamp, ToolId, VisitorId};
use docent_store::testing::{fresh_store, fresh_store_pair, postgres_base_url};
use docent_store::{NewConversation, SegmentDeletion, StorageError, Store};
use serde_json::json;

mod quotes;
mod tenants;
mod tools;
mod turns;
mod visitors;

use quotes::*;
use tenants::*;
use tools::*;
use turns::*;
use visitors::*;

type Db = Arc<dyn Store>;

/// Instantiates every test of the modules above for one backend, in a module named after it.
macro_rules! store_test_suite {
    ($backend:ident) => {
        store_test_suite!(@tests $backend:
            creating_a_tenant_creates_its_default_segment,
            a_duplicate_tenant_slug_is_a_conflict,
            a_tenant_is_found_by_slug_by_id_and_by_api_key_hash,
            updating_a_tenant_round_trips_settings_and_admin_fields,
            child_tenants_are_counted_per_parent,
            tokens_are_created_listed_found_by_hash_and_deleted,
            touching_a_token_records_its_last_use,
            deleting_another_tenants_token_returns_false,
            segment_slugs_come_from_the_name_and_are_made_unique,
            a_segment_is_read_by_id_and_by_slug_and_updated,
            deleting_a_segment_reports_deleted_not_found_or_is_default,
            a_segment_of_another_tenant_is_invisible,
            deleting_a_segment_makes_its_tools_general,
            tools_default_to_the_next_position_and_list_in_position_order,
            a_tool_reads_back_its_fields_and_segment_slug,
            a_tool_in_a_segment_of_another_tenant_is_invalid_and_not_written,
            updating_a_tool_writes_its_fields_and_another_tenants_tool_is_not_found,
            deleting_a_tool_removes_it_once,
            visitors_are_listed_newest_first_with_limit_offset_and_total,
            visitor_search_is_case_insensitive_over_email_name_and_external_id,
            visitor_search_matches_percent_and_underscore_literally,
            a_visitor_detail_counts_conversations_and_memory_facts,
            updating_a_visitor_writes_its_fields,
            a_duplicate_email_or_external_id_is_a_conflict_within_a_tenant_only,
            racing_finds_or_creates_of_one_external_id_share_one_visitor,
            deleting_a_visitor_removes_their_conversations_and_memory,
            upserting_a_fact_creates_it_then_replaces_its_value,
            memory_facts_list_in_key_order_and_delete_once,
            remembering_a_fact_creates_then_replaces_it_for_this_tenants_visitor_only,
            the_memory_of_another_tenants_visitor_is_not_found,
            conversations_are_counted_since_an_instant,
            turns_votes_and_submission_moves_keep_history_and_rollups_in_step,
            turns_link_the_conversation_to_a_visitor_and_never_unlink_it,
            quotes_are_numbered_sequentially_per_tenant_and_read_back,
            concurrent_quotes_never_share_a_number_and_leave_no_gap,
            deleting_a_visitor_deletes_their_quotes,
            a_failed_turn_write_leaves_nothing_behind_and_the_writer_usable,
            repeated_tool_turns_count_the_conversation_once_and_every_call,
            concurrent_turn_writes_each_land_once_beside_a_failing_one,
            a_turn_checked_against_an_old_tenant_copy_writes_nothing,
            racing_first_turns_open_one_conversation_and_the_cap_refuses_only_new_ones,
            a_long_conversations_turn_reads_back_only_its_latest_messages,
            a_busy_days_turns_add_up_in_one_rollup_cell;
            // Two stores on one database, as two processes:
            a_turn_sees_every_message_whichever_process_wrote_it,
        );
    };
    (@tests $backend:ident: $($test:ident),+; $($pair:ident),+ $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some((db, _dir)) = super::open(stringify!($backend)).await else { return };
                    super::$test(db).await;
                }
            )+
            $(
                #[tokio::test]
                async fn $pair() {
                    let Some((pair, _dir)) = super::open_pair(stringify!($backend)).await else { return };
                    super::$pair(pair).await;
                }
            )+
        }
    };
}

store_test_suite!(sqlite);
store_test_suite!(postgres);

/// A fresh store and the directory holding its SQLite file (kept alive with it). `None` skips a
/// PostgreSQL test when no server is configured, which `postgres_base_url` refuses under CI.
async fn open(backend: &str) -> Option<(Db, tempfile::TempDir)> {
    if backend == "postgres" && postgres_base_url().is_none() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    Some((fresh_store(backend, dir.path()).await, dir))
}

/// Two stores on one fresh database (see `open`).
async fn open_pair(backend: &str) -> Option<((Db, Db), tempfile::TempDir)> {
    if backend == "postgres" && postgres_base_url().is_none() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    Some((fresh_store_pair(backend, dir.path()).await, dir))
}

// Fixtures. Tests hold tenants by ID: `acme`, and `other` to check isolation.

fn new_tenant(slug: &str, parent: Option<&TenantId>) -> NewTenant {
    NewTenant {
        slug: slug.to_owned(),
        name: format!("{slug} inc"),
        parent_id: parent.cloned(),
        plan: "free".to_owned(),
        is_activated: true,
        api_key_hash: format!("key-hash-{slug}"),
    }
}

fn segment_in(name: &str) -> SegmentIn {
    SegmentIn {
        name: name.to_owned(),
        system_prompt: format!("You are the {name} assistant."),
        welcome_message: None,
        conversation_starters: Vec::new(),
        is_active: true,
    }
}

/// Creates a tenant; returns its ID and its default segment.
async fn tenant(db: &Db, slug: &str) -> (TenantId, Segment) {
    let (tenant, general) = db.create_tenant(new_tenant(slug, None), segment_in("General")).await.unwrap();
    (tenant.id, general)
}

async fn acme_and_other(db: &Db) -> (TenantId, TenantId) {
    (tenant(db, "acme").await.0, tenant(db, "other").await.0)
}

fn new_token(name: &str) -> NewToken {
    let (prefix, hash) = (format!("ak_{name}"), format!("token-hash-{name}"));
    NewToken { name: name.to_owned(), prefix, hash, scopes: vec![Scope::ToolsRead], expires_at: None }
}

fn tool(name: &str, segment: Option<&SegmentId>) -> ToolFields {
    ToolFields {
        name: name.to_owned(),
        description: format!("The {name} tool."),
        tool_type: ToolType::SubmitForm,
        config: json!({ "fields": [] }),
        position: None,
        is_active: true,
        segment_id: segment.cloned(),
        webhook_url: None,
        webhook_secret: None,
    }
}

fn tool_at(name: &str, position: i64) -> ToolFields {
    ToolFields { position: Some(position), ..tool(name, None) }
}

fn visitor(email: Option<&str>, name: Option<&str>, external_id: Option<&str>) -> VisitorFields {
    VisitorFields {
        email: email.map(str::to_owned),
        display_name: name.map(str::to_owned),
        external_id: external_id.map(str::to_owned),
        metadata: json!({}),
        ..VisitorFields::default()
    }
}

fn fields_of(v: &Visitor) -> VisitorFields {
    VisitorFields {
        email: v.email.clone(),
        display_name: v.display_name.clone(),
        phone: v.phone.clone(),
        auth_provider: v.auth_provider.clone(),
        external_id: v.external_id.clone(),
        metadata: v.metadata.clone(),
    }
}

/// Creates a visitor known by email only.
async fn add_visitor(db: &Db, tenant: &TenantId, email: &str) -> VisitorId {
    db.create_visitor(tenant, visitor(Some(email), None, None)).await.unwrap().id
}

fn conversation(session: &str, visitor: Option<&VisitorId>) -> NewConversation {
    NewConversation {
        session_id: session.to_owned(),
        visitor_id: visitor.cloned(),
        segment_id: None,
        channel: "widget".to_owned(),
        visitor_type: "anonymous".to_owned(),
        agent_model: None,
        page_url: None,
        metadata: serde_json::json!({}),
    }
}

fn query(limit: u32, offset: u64, search: &str) -> VisitorQuery {
    VisitorQuery { limit, offset, search: Some(search.to_owned()).filter(|s| !s.is_empty()) }
}

/// The IDs a search finds (one page of 100), checking the total agrees.
async fn search(db: &Db, tenant: &TenantId, text: &str) -> Vec<VisitorId> {
    let (found, total) = db.list_visitors(tenant, &query(100, 0, text)).await.unwrap();
    assert_eq!(total, found.len() as u64, "total of search {text:?}");
    found.into_iter().map(|v| v.id).collect()
}

fn keys(facts: Vec<MemoryFact>) -> Vec<String> {
    facts.into_iter().map(|f| f.key).collect()
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StorageError>, field: &str) {
    match result {
        Err(StorageError::Conflict { what }) => assert_eq!(what, field),
        other => panic!("expected a conflict on {field}, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StorageError>) {
    assert!(matches!(result, Err(StorageError::NotFound)), "expected NotFound, got {result:?}");
}

fn assert_invalid_segment<T: std::fmt::Debug>(result: Result<T, StorageError>) {
    let invalid = matches!(&result, Err(StorageError::Invalid { field, .. }) if field == "segmentId");
    assert!(invalid, "expected an invalid segmentId, got {result:?}");
}
