//! The `Store` conformance suite: one generic set of behaviours, instantiated for SQLite (always)
//! and PostgreSQL (when `DOCENT_TEST_POSTGRES_URL` is set; always in CI) by `store_test_suite!`,
//! like quickwit's `metastore_test_suite!`. A behaviour that is not here is not guaranteed.

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
use docent_store::testing::{fresh_store, postgres_base_url};
use docent_store::{NewConversation, SegmentDeletion, StorageError, Store};
use serde_json::json;

type Db = Arc<dyn Store>;

/// Instantiates every test below for one backend, in a module named after it.
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
            deleting_a_visitor_removes_their_conversations_and_memory,
            upserting_a_fact_creates_it_then_replaces_its_value,
            memory_facts_list_in_key_order_and_delete_once,
            the_memory_of_another_tenants_visitor_is_not_found,
            conversations_are_counted_since_an_instant,
            turns_votes_and_submission_moves_keep_history_and_rollups_in_step,
            quotes_are_numbered_sequentially_per_tenant_and_read_back,
            concurrent_quotes_never_share_a_number_and_leave_no_gap,
            deleting_a_visitor_deletes_their_quotes,
            a_failed_turn_write_leaves_nothing_behind_and_the_writer_usable,
            concurrent_turn_writes_each_land_once_beside_a_failing_one,
        );
    };
    (@tests $backend:ident: $($test:ident),+ $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some((db, _dir)) = super::open(stringify!($backend)).await else { return };
                    super::$test(db).await;
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

// ---- Tenants ----

async fn creating_a_tenant_creates_its_default_segment(db: Db) {
    db.ping().await.unwrap();
    // The default segment is `general` and active whatever its name and flag say.
    let default = SegmentIn { is_active: false, ..segment_in("Front desk") };
    let (acme, general) = db.create_tenant(new_tenant("acme", None), default).await.unwrap();
    assert_eq!((acme.name.as_str(), acme.parent_id.as_ref()), ("acme inc", None));
    assert_eq!((general.slug.as_str(), general.name.as_str()), ("general", "Front desk"));
    assert!(general.is_default && general.is_active);
    assert_eq!(db.tenant_by_slug("acme").await.unwrap(), Some(acme.clone()));
    assert_eq!(db.list_segments(&acme.id).await.unwrap(), vec![general.clone()]);
    assert_eq!(db.segment_by_slug(&acme.id, "general").await.unwrap(), Some(general));
}

async fn a_duplicate_tenant_slug_is_a_conflict(db: Db) {
    tenant(&db, "acme").await;
    let again = NewTenant { api_key_hash: "another-key".to_owned(), ..new_tenant("acme", None) };
    assert_conflict(db.create_tenant(again, segment_in("General")).await, "slug");
    assert_eq!(db.tenant_by_api_key_hash("another-key").await.unwrap(), None);
}

async fn a_tenant_is_found_by_slug_by_id_and_by_api_key_hash(db: Db) {
    let (acme, _) = acme_and_other(&db).await;
    let found = db.tenant_by_slug("acme").await.unwrap().unwrap();
    assert_eq!(found.id, acme);
    assert_eq!(db.tenant_by_id(&acme).await.unwrap(), Some(found.clone()));
    assert_eq!(db.tenant_by_api_key_hash("key-hash-acme").await.unwrap(), Some(found));
    assert_eq!(db.tenant_by_slug("nobody").await.unwrap(), None);
    assert_eq!(db.tenant_by_id(&TenantId::generate()).await.unwrap(), None);
    assert_eq!(db.tenant_by_api_key_hash("no-such-hash").await.unwrap(), None);
}

async fn updating_a_tenant_round_trips_settings_and_admin_fields(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let before = db.tenant_by_id(&acme).await.unwrap().unwrap();
    let mut changed = before.clone();
    changed.name = "Acme Corp".to_owned();
    (changed.plan, changed.is_activated, changed.conversations_limit) = ("pro".to_owned(), false, Some(500));
    changed.settings.bot_name = "Ada".to_owned();
    changed.settings.bot_tone = BotTone::Technical;
    changed.settings.allowed_domains = vec!["*.acme.test".to_owned()];
    changed.settings.widget_key = Some("wk-1".to_owned());
    // Slug and parent are never written by an update.
    (changed.slug, changed.parent_id) = ("renamed".to_owned(), Some(other.clone()));

    let updated = db.update_tenant(&acme, &changed).await.unwrap();
    assert!(updated.updated_at >= before.updated_at);
    let expected = Tenant { slug: before.slug, parent_id: None, updated_at: updated.updated_at, ..changed.clone() };
    assert_eq!(updated, expected);
    assert_eq!(db.tenant_by_slug("acme").await.unwrap(), Some(updated));
    assert_eq!(db.tenant_by_slug("renamed").await.unwrap(), None);
    assert_eq!(db.count_child_tenants(&other).await.unwrap(), 0);
    assert_not_found(db.update_tenant(&TenantId::generate(), &changed).await);
}

async fn child_tenants_are_counted_per_parent(db: Db) {
    let (parent, lonely) = acme_and_other(&db).await;
    for slug in ["child-a", "child-b"] {
        db.create_tenant(new_tenant(slug, Some(&parent)), segment_in("General")).await.unwrap();
    }
    assert_eq!(db.count_child_tenants(&parent).await.unwrap(), 2);
    assert_eq!(db.count_child_tenants(&lonely).await.unwrap(), 0);
    let child = db.tenant_by_slug("child-a").await.unwrap().unwrap();
    assert_eq!(child.parent_id, Some(parent));
}

// ---- Tokens ----

async fn tokens_are_created_listed_found_by_hash_and_deleted(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let first = db.create_token(&acme, new_token("ci")).await.unwrap();
    assert_eq!((&first.tenant_id, first.prefix.as_str(), first.last_used_at), (&acme, "ak_ci", None));
    let expires_at = Some(Timestamp::from_millis(4_102_444_800_000));
    let expiring = NewToken { scopes: vec![Scope::All, Scope::VisitorsWrite], expires_at, ..new_token("deploy") };
    let second = db.create_token(&acme, expiring).await.unwrap();
    assert_eq!(db.list_tokens(&acme).await.unwrap(), vec![first.clone(), second.clone()]);
    assert_eq!(db.token_by_hash("token-hash-deploy").await.unwrap(), Some(second.clone()));
    assert_eq!(db.token_by_hash("no-such-hash").await.unwrap(), None);

    assert!(db.delete_token(&acme, &first.id).await.unwrap());
    assert!(!db.delete_token(&acme, &first.id).await.unwrap());
    assert_eq!(db.list_tokens(&acme).await.unwrap(), vec![second]);
    assert_eq!(db.token_by_hash("token-hash-ci").await.unwrap(), None);
}

async fn touching_a_token_records_its_last_use(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let token = db.create_token(&acme, new_token("ci")).await.unwrap();
    let at = Timestamp::from_millis(1_700_000_000_123);
    db.touch_token(&acme, &token.id, at).await.unwrap();
    // Another tenant's touch does nothing.
    db.touch_token(&other, &token.id, at.plus_millis(5_000)).await.unwrap();
    let found = db.token_by_hash("token-hash-ci").await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(at));
    assert_eq!(db.list_tokens(&acme).await.unwrap(), vec![found]);
}

async fn deleting_another_tenants_token_returns_false(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let token = db.create_token(&acme, new_token("ci")).await.unwrap();
    assert!(!db.delete_token(&other, &token.id).await.unwrap());
    assert!(db.list_tokens(&other).await.unwrap().is_empty());
    assert_eq!(db.list_tokens(&acme).await.unwrap(), vec![token]);
}

// ---- Segments ----

async fn segment_slugs_come_from_the_name_and_are_made_unique(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let mut slugs = Vec::new();
    for name in ["Support", "Support", "Équipe Été!", "General"] {
        let segment = db.create_segment(&acme, segment_in(name)).await.unwrap();
        assert!(!segment.is_default);
        slugs.push(segment.slug);
    }
    assert_eq!(slugs, ["support", "support-2", "equipe-ete", "general-2"]);
    // Another tenant's slugs do not count.
    assert_eq!(db.create_segment(&other, segment_in("Support")).await.unwrap().slug, "support");
    let listed: Vec<String> = db.list_segments(&acme).await.unwrap().into_iter().map(|s| s.slug).collect();
    assert_eq!(listed, ["general", "support", "support-2", "equipe-ete", "general-2"]);
}

async fn a_segment_is_read_by_id_and_by_slug_and_updated(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let starter = ConversationStarter { text: "Prices?".to_owned(), emoji: "💶".to_owned() };
    let new = SegmentIn {
        welcome_message: Some("Hello!".to_owned()),
        conversation_starters: vec![starter],
        ..segment_in("Sales")
    };
    let created = db.create_segment(&acme, new).await.unwrap();
    assert_eq!(db.get_segment(&acme, &created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(db.segment_by_slug(&acme, "sales").await.unwrap(), Some(created.clone()));
    assert_eq!(db.segment_by_slug(&acme, "nope").await.unwrap(), None);
    assert_eq!(db.get_segment(&acme, &SegmentId::generate()).await.unwrap(), None);

    let mut changed = created.clone();
    (changed.name, changed.system_prompt) = ("Sales team".to_owned(), "Sell politely.".to_owned());
    (changed.welcome_message, changed.conversation_starters, changed.is_active) = (None, Vec::new(), false);
    let updated = db.update_segment(&acme, &changed).await.unwrap();
    // Everything is written but the slug, which stays.
    assert_eq!(updated, Segment { updated_at: updated.updated_at, ..changed });
    assert_eq!(db.get_segment(&acme, &created.id).await.unwrap(), Some(updated));
    // The default segment stays active.
    let inactive = Segment { is_active: false, ..general };
    assert!(db.update_segment(&acme, &inactive).await.unwrap().is_active);
}

async fn deleting_a_segment_reports_deleted_not_found_or_is_default(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    assert_eq!(db.delete_segment(&acme, &general.id).await.unwrap(), SegmentDeletion::IsDefault);
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::Deleted);
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::NotFound);
    assert_eq!(db.get_segment(&acme, &sales.id).await.unwrap(), None);
    assert_eq!(db.list_segments(&acme).await.unwrap(), vec![general]);
}

async fn a_segment_of_another_tenant_is_invisible(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let (other, other_general) = tenant(&db, "other").await;
    let theirs = db.create_segment(&other, segment_in("Secret")).await.unwrap();
    assert_eq!(db.get_segment(&acme, &theirs.id).await.unwrap(), None);
    assert_eq!(db.segment_by_slug(&acme, "secret").await.unwrap(), None);
    assert_eq!(db.delete_segment(&acme, &theirs.id).await.unwrap(), SegmentDeletion::NotFound);
    assert_eq!(db.delete_segment(&acme, &other_general.id).await.unwrap(), SegmentDeletion::NotFound);
    let hijacked = Segment { name: "Hijacked".to_owned(), ..theirs.clone() };
    assert_not_found(db.update_segment(&acme, &hijacked).await);
    assert_eq!(db.list_segments(&acme).await.unwrap().len(), 1);
    assert_eq!(db.get_segment(&other, &theirs.id).await.unwrap(), Some(theirs));
}

async fn deleting_a_segment_makes_its_tools_general(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    let scoped = db.create_tool(&acme, tool("quote", Some(&sales.id))).await.unwrap();
    let elsewhere = db.create_tool(&acme, tool("contact", Some(&general.id))).await.unwrap();
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::Deleted);
    let now_general = db.get_tool(&acme, &scoped.id).await.unwrap().unwrap();
    assert_eq!((now_general.segment_id, now_general.segment_slug), (None, None));
    assert_eq!(db.get_tool(&acme, &elsewhere.id).await.unwrap(), Some(elsewhere));
}

// ---- Tools ----

async fn tools_default_to_the_next_position_and_list_in_position_order(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let mut positions = Vec::new();
    for fields in [tool("first", None), tool_at("pinned", 10), tool("next", None), tool_at("early", 5)] {
        positions.push(db.create_tool(&acme, fields).await.unwrap().position);
    }
    assert_eq!(positions, [1, 10, 11, 5]);
    let names: Vec<String> = db.list_tools(&acme).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["first", "early", "pinned", "next"]);
    // Positions count per tenant.
    assert_eq!(db.create_tool(&other, tool("theirs", None)).await.unwrap().position, 1);
}

async fn a_tool_reads_back_its_fields_and_segment_slug(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    let fields = ToolFields {
        tool_type: ToolType::EscalateToHuman,
        config: json!({ "team": "sales", "urgent": true }),
        is_active: false,
        webhook_url: Some("https://hooks.example.test/escalate".to_owned()),
        webhook_secret: Some("sealed-secret".to_owned()),
        ..tool("escalate", Some(&sales.id))
    };
    let created = db.create_tool(&acme, fields.clone()).await.unwrap();
    assert_eq!((created.segment_slug.as_deref(), created.position), (Some("sales"), 1));
    assert_eq!((&created.name, &created.description), (&fields.name, &fields.description));
    assert_eq!((created.tool_type, &created.config, created.is_active), (fields.tool_type, &fields.config, false));
    assert_eq!((&created.segment_id, &created.webhook_url), (&fields.segment_id, &fields.webhook_url));
    assert_eq!(created.webhook_secret, fields.webhook_secret);
    assert_eq!(db.get_tool(&acme, &created.id).await.unwrap(), Some(created.clone()));
    assert_eq!(db.list_tools(&acme).await.unwrap(), vec![created.clone()]);
    assert_eq!(db.get_tool(&other, &created.id).await.unwrap(), None);
    assert!(db.list_tools(&other).await.unwrap().is_empty());
}

async fn a_tool_in_a_segment_of_another_tenant_is_invalid_and_not_written(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let theirs = db.create_segment(&other, segment_in("Theirs")).await.unwrap();
    for segment in [theirs.id.clone(), SegmentId::generate()] {
        assert_invalid_segment(db.create_tool(&acme, tool("sneaky", Some(&segment))).await);
    }
    assert!(db.list_tools(&acme).await.unwrap().is_empty());

    let mine = db.create_tool(&acme, tool("mine", None)).await.unwrap();
    assert_invalid_segment(db.update_tool(&acme, &mine.id, tool("renamed", Some(&theirs.id))).await);
    assert_eq!(db.get_tool(&acme, &mine.id).await.unwrap(), Some(mine));
}

async fn updating_a_tool_writes_its_fields_and_another_tenants_tool_is_not_found(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    let created = db.create_tool(&acme, tool_at("form", 3)).await.unwrap();
    let changes = ToolFields {
        description: "Collects leads.".to_owned(),
        config: json!({ "fields": [{ "name": "email", "label": "Email", "type": "email", "required": true }] }),
        is_active: false,
        ..tool("lead form", Some(&sales.id))
    };
    let updated = db.update_tool(&acme, &created.id, changes.clone()).await.unwrap();
    assert_eq!((&updated.id, updated.position), (&created.id, 3), "no position keeps it");
    assert_eq!((&updated.name, &updated.description), (&changes.name, &changes.description));
    assert_eq!((&updated.config, updated.is_active), (&changes.config, false));
    assert_eq!(updated.segment_slug.as_deref(), Some("sales"));
    assert_eq!(db.get_tool(&acme, &created.id).await.unwrap(), Some(updated));
    let moved = db.update_tool(&acme, &created.id, tool_at("lead form", 7)).await.unwrap();
    assert_eq!((moved.position, moved.segment_id, moved.segment_slug), (7, None, None));

    assert_not_found(db.update_tool(&other, &created.id, tool("hijacked", None)).await);
    assert_not_found(db.update_tool(&acme, &ToolId::generate(), tool("x", None)).await);
    assert_eq!(db.get_tool(&acme, &created.id).await.unwrap().unwrap().name, "lead form");
}

async fn deleting_a_tool_removes_it_once(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let doomed = db.create_tool(&acme, tool("doomed", None)).await.unwrap();
    let kept = db.create_tool(&acme, tool("kept", None)).await.unwrap();
    assert!(!db.delete_tool(&other, &doomed.id).await.unwrap());
    assert!(db.delete_tool(&acme, &doomed.id).await.unwrap());
    assert!(!db.delete_tool(&acme, &doomed.id).await.unwrap());
    assert_eq!(db.get_tool(&acme, &doomed.id).await.unwrap(), None);
    assert_eq!(db.list_tools(&acme).await.unwrap(), vec![kept]);
}

// ---- Visitors ----

async fn visitors_are_listed_newest_first_with_limit_offset_and_total(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(add_visitor(&db, &acme, &format!("v{n}@acme.test")).await);
    }
    add_visitor(&db, &other, "v9@other.test").await;
    ids.reverse();
    let pages = [(2, 0, &ids[0..2]), (2, 2, &ids[2..4]), (2, 4, &ids[4..]), (2, 9, &[][..]), (9, 0, &ids[..])];
    for (limit, offset, expected) in pages {
        let (page, total) = db.list_visitors(&acme, &query(limit, offset, "")).await.unwrap();
        assert_eq!(total, 5);
        assert_eq!(page.into_iter().map(|v| v.id).collect::<Vec<_>>(), expected, "limit {limit} offset {offset}");
    }
}

async fn visitor_search_is_case_insensitive_over_email_name_and_external_id(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let add = |tenant, fields| db.create_visitor(tenant, fields);
    let ann = add(&acme, visitor(Some("ann@example.com"), Some("Ann Smith"), None)).await.unwrap().id;
    let bob = add(&acme, visitor(Some("bob@corp.test"), Some("Bob"), Some("CRM-0042"))).await.unwrap().id;
    let cid = add(&acme, visitor(None, None, Some("crm-7"))).await.unwrap().id;
    add(&other, visitor(Some("ann@example.com"), Some("Ann"), Some("crm-1"))).await.unwrap();
    assert_eq!(search(&db, &acme, "EXAMPLE.com").await, vec![ann.clone()]);
    assert_eq!(search(&db, &acme, "sMITH").await, vec![ann.clone()]);
    assert_eq!(search(&db, &acme, "crm-").await, [cid.clone(), bob.clone()]);
    // A blank search is no search.
    assert_eq!(search(&db, &acme, "  ").await, [cid, bob, ann]);
    assert!(search(&db, &acme, "nobody").await.is_empty());
    // Accents fold the same way on both backends.
    let elodie = add(&acme, visitor(None, Some("ÉLODIE Brûlé"), Some("e-1"))).await.unwrap().id;
    assert_eq!(search(&db, &acme, "élodie").await, vec![elodie.clone()]);
    assert_eq!(search(&db, &acme, "BRÛLÉ").await, vec![elodie]);
}

async fn visitor_search_matches_percent_and_underscore_literally(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let add = |name, id| db.create_visitor(&acme, visitor(None, Some(name), Some(id)));
    let percent = add("100% sure", "p1").await.unwrap().id;
    add("1000 sure", "p2").await.unwrap();
    let underscore = add("Under", "a_b").await.unwrap().id;
    add("Other", "axb").await.unwrap();
    let backslash = add(r"back\slash", "b1").await.unwrap().id;
    add("backslash", "b2").await.unwrap();
    assert_eq!(search(&db, &acme, "%").await, vec![percent.clone()]);
    assert_eq!(search(&db, &acme, "0%").await, [percent]);
    assert_eq!(search(&db, &acme, "_").await, vec![underscore.clone()]);
    assert_eq!(search(&db, &acme, "a_b").await, [underscore]);
    assert_eq!(search(&db, &acme, r"k\s").await, [backslash]);
}

async fn a_visitor_detail_counts_conversations_and_memory_facts(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let ann = db.create_visitor(&acme, visitor(Some("ann@x.test"), Some("Ann"), None)).await.unwrap();
    let detail = db.get_visitor(&acme, &ann.id).await.unwrap().unwrap();
    assert_eq!((detail.visitor, detail.conversation_count, detail.memory_fact_count), (ann.clone(), 0, 0));
    for session in ["s1", "s2"] {
        db.create_conversation(&acme, conversation(session, Some(&ann.id))).await.unwrap();
    }
    db.create_conversation(&acme, conversation("anonymous", None)).await.unwrap();
    for key in ["name", "city", "plan"] {
        db.upsert_memory(&acme, &ann.id, key, "x").await.unwrap();
    }
    let detail = db.get_visitor(&acme, &ann.id).await.unwrap().unwrap();
    assert_eq!((detail.conversation_count, detail.memory_fact_count), (2, 3));
    assert!(db.get_visitor(&other, &ann.id).await.unwrap().is_none());
    assert!(db.get_visitor(&acme, &VisitorId::generate()).await.unwrap().is_none());
}

async fn updating_a_visitor_writes_its_fields(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let ann = db.create_visitor(&acme, visitor(Some("ann@x.test"), Some("Ann"), None)).await.unwrap();
    let fields = VisitorFields {
        phone: Some("+33 1 23 45 67 89".to_owned()),
        auth_provider: Some("google".to_owned()),
        metadata: json!({ "tier": "gold", "visits": 3 }),
        ..visitor(Some("ann@new.test"), None, Some("g-1"))
    };
    let updated = db.update_visitor(&acme, &ann.id, fields.clone()).await.unwrap();
    assert_eq!((&updated.id, updated.created_at), (&ann.id, ann.created_at));
    assert_eq!(fields_of(&updated), fields);
    assert_eq!(db.get_visitor(&acme, &ann.id).await.unwrap().unwrap().visitor, updated);
    // Keeping one's own email and external ID is not a conflict.
    db.update_visitor(&acme, &ann.id, fields.clone()).await.unwrap();
    assert_not_found(db.update_visitor(&other, &ann.id, fields).await);
    let zed = visitor(Some("zed@x.test"), None, None);
    assert_not_found(db.update_visitor(&acme, &VisitorId::generate(), zed).await);
}

async fn a_duplicate_email_or_external_id_is_a_conflict_within_a_tenant_only(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    db.create_visitor(&acme, visitor(Some("ann@x.test"), None, Some("ext-1"))).await.unwrap();
    let bob = db.create_visitor(&acme, visitor(Some("bob@x.test"), None, Some("ext-2"))).await.unwrap();
    let same_email = visitor(Some("ann@x.test"), None, None);
    let same_external_id = visitor(Some("new@x.test"), None, Some("ext-1"));
    assert_conflict(db.create_visitor(&acme, same_email.clone()).await, "email");
    assert_conflict(db.create_visitor(&acme, same_external_id.clone()).await, "externalId");
    assert_conflict(db.update_visitor(&acme, &bob.id, same_email).await, "email");
    assert_conflict(db.update_visitor(&acme, &bob.id, same_external_id).await, "externalId");
    assert_eq!(db.list_visitors(&acme, &query(10, 0, "")).await.unwrap().1, 2);
    assert_eq!(db.get_visitor(&acme, &bob.id).await.unwrap().unwrap().visitor, bob);
    // Another tenant may hold the same ones.
    let theirs = db.create_visitor(&other, visitor(Some("ann@x.test"), None, Some("ext-1"))).await.unwrap();
    assert_eq!(search(&db, &other, "ann@x.test").await, [theirs.id]);
}

async fn deleting_a_visitor_removes_their_conversations_and_memory(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let since = Timestamp::now().plus_millis(-60_000);
    let ann = add_visitor(&db, &acme, "ann@x.test").await;
    let bob = add_visitor(&db, &acme, "bob@x.test").await;
    for (session, who) in [("a1", &ann), ("a2", &ann), ("b1", &bob)] {
        db.create_conversation(&acme, conversation(session, Some(who))).await.unwrap();
        db.upsert_memory(&acme, who, session, "remembered").await.unwrap();
    }
    assert_eq!(db.count_conversations_since(&acme, since).await.unwrap(), 3);

    assert!(!db.delete_visitor(&other, &ann).await.unwrap());
    assert!(db.delete_visitor(&acme, &ann).await.unwrap());
    assert!(!db.delete_visitor(&acme, &ann).await.unwrap());
    assert!(db.get_visitor(&acme, &ann).await.unwrap().is_none());
    assert_eq!(db.count_conversations_since(&acme, since).await.unwrap(), 1);
    assert_not_found(db.list_memory(&acme, &ann).await);
    assert_eq!(db.get_memory(&acme, &ann, "a1").await.unwrap(), None);
    let bob = db.get_visitor(&acme, &bob).await.unwrap().unwrap();
    assert_eq!((bob.conversation_count, bob.memory_fact_count), (1, 1));

    // The same person coming back starts afresh.
    let again = add_visitor(&db, &acme, "ann@x.test").await;
    let again = db.get_visitor(&acme, &again).await.unwrap().unwrap();
    assert_eq!((again.conversation_count, again.memory_fact_count), (0, 0));
}

// ---- Memory ----

async fn upserting_a_fact_creates_it_then_replaces_its_value(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let ann = add_visitor(&db, &acme, "ann@x.test").await;
    // Twice in a row, likely within one millisecond: `created` must not depend on timing.
    let (first, created) = db.upsert_memory(&acme, &ann, "favorite_color", "blue").await.unwrap();
    assert!(created);
    assert_eq!((first.key.as_str(), first.value.as_str()), ("favorite_color", "blue"));
    let (second, created) = db.upsert_memory(&acme, &ann, "favorite_color", "green").await.unwrap();
    assert!(!created, "a second upsert replaces the fact");
    assert_eq!((second.value.as_str(), second.created_at), ("green", first.created_at));
    assert!(second.updated_at >= first.updated_at);
    assert_eq!(db.get_memory(&acme, &ann, "favorite_color").await.unwrap(), Some(second.clone()));
    assert_eq!(db.list_memory(&acme, &ann).await.unwrap(), vec![second]);
}

async fn memory_facts_list_in_key_order_and_delete_once(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let ann = add_visitor(&db, &acme, "ann@x.test").await;
    let bob = add_visitor(&db, &acme, "bob@x.test").await;
    for key in ["zip", "age", "name"] {
        db.upsert_memory(&acme, &ann, key, &format!("{key} value")).await.unwrap();
    }
    db.upsert_memory(&acme, &bob, "age", "40").await.unwrap();
    assert_eq!(keys(db.list_memory(&acme, &ann).await.unwrap()), ["age", "name", "zip"]);
    assert_eq!(db.get_memory(&acme, &ann, "name").await.unwrap().unwrap().value, "name value");
    assert_eq!(db.get_memory(&acme, &ann, "missing").await.unwrap(), None);

    assert!(db.delete_memory(&acme, &ann, "age").await.unwrap());
    assert!(!db.delete_memory(&acme, &ann, "age").await.unwrap());
    assert_eq!(db.get_memory(&acme, &ann, "age").await.unwrap(), None);
    assert_eq!(keys(db.list_memory(&acme, &ann).await.unwrap()), ["name", "zip"]);
    assert_eq!(db.get_memory(&acme, &bob, "age").await.unwrap().unwrap().value, "40");
}

async fn the_memory_of_another_tenants_visitor_is_not_found(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let eve = add_visitor(&db, &other, "eve@x.test").await;
    db.upsert_memory(&other, &eve, "secret", "kept").await.unwrap();
    assert_not_found(db.list_memory(&acme, &eve).await);
    assert_not_found(db.list_memory(&acme, &VisitorId::generate()).await);
    assert_not_found(db.upsert_memory(&acme, &eve, "secret", "stolen").await);
    assert_eq!(db.get_memory(&acme, &eve, "secret").await.unwrap(), None);
    assert!(!db.delete_memory(&acme, &eve, "secret").await.unwrap());
    assert_eq!(db.get_memory(&other, &eve, "secret").await.unwrap().unwrap().value, "kept");
}

// ---- Conversations ----

async fn conversations_are_counted_since_an_instant(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let (other, _) = tenant(&db, "other").await;
    let before = Timestamp::now();
    let first = db.create_conversation(&acme, conversation("s1", None)).await.unwrap();
    let in_segment = NewConversation { segment_id: Some(general.id), ..conversation("s2", None) };
    let second = db.create_conversation(&acme, in_segment).await.unwrap();
    assert_ne!(first, second);
    assert!(first.as_str().starts_with("conv_"));
    // Session IDs are per tenant.
    db.create_conversation(&other, conversation("s1", None)).await.unwrap();
    assert_eq!(db.count_conversations_since(&acme, before).await.unwrap(), 2);
    assert_eq!(db.count_conversations_since(&acme, Timestamp::from_millis(0)).await.unwrap(), 2);
    let later = Timestamp::now().plus_millis(60_000);
    assert_eq!(db.count_conversations_since(&acme, later).await.unwrap(), 0);
    assert_eq!(db.count_conversations_since(&other, before).await.unwrap(), 1);
}

// Quotes.

fn new_quote(conversation: Option<docent_domain::ConversationId>, visitor: Option<VisitorId>) -> NewQuote {
    let grid = PricingGrid::from_config(&json!({"pricing": {
        "items": [{"sku": "site", "label": "Website", "unit": 150000, "per": "flat"}],
        "vat": 20
    }}))
    .unwrap()
    .unwrap();
    let computed = quote::compute(&grid, &[quote::Requested { sku: "site".into(), quantity: 2 }]).unwrap();
    NewQuote {
        tool_id: None,
        conversation_id: conversation,
        visitor_id: visitor,
        customer_name: "Ann".into(),
        customer_email: "ann@example.com".into(),
        computed,
    }
}

async fn quotes_are_numbered_sequentially_per_tenant_and_read_back(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let year = quote::year_of(Timestamp::now());
    let conv = db.create_conversation(&acme, conversation("s1", None)).await.unwrap();
    let first = db.create_quote(&acme, new_quote(Some(conv.clone()), None)).await.unwrap();
    assert!(first.id.as_str().starts_with("quo_"));
    assert_eq!(first.number, format!("Q-{year}-0001"));
    let second = db.create_quote(&acme, new_quote(None, None)).await.unwrap();
    assert_eq!(second.number, format!("Q-{year}-0002"));
    let theirs = db.create_quote(&other, new_quote(None, None)).await.unwrap();
    assert_eq!(theirs.number, format!("Q-{year}-0001"), "each tenant has its own sequence");
    let listed = db.list_quotes(&acme).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second], "read back as written, oldest first");
    assert_eq!(listed[0].conversation_id, Some(conv));
    assert_eq!((listed[0].subtotal, listed[0].vat, listed[0].total), (300_000, Some(60_000), 360_000));
    assert_eq!(listed[0].lines[0].label, "Website");
    assert_eq!(db.quote_by_number(&acme, &first.number).await.unwrap(), Some(first.clone()));
    assert_eq!(db.quote_by_number(&other, "Q-1999-0001").await.unwrap(), None);
    assert_eq!(db.list_quotes(&other).await.unwrap().len(), 1);
}

async fn concurrent_quotes_never_share_a_number_and_leave_no_gap(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let db = db.clone();
            let tenant = if i % 3 == 0 { other.clone() } else { acme.clone() };
            tokio::spawn(async move { db.create_quote(&tenant, new_quote(None, None)).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    for (tenant, expected) in [(&acme, 16), (&other, 8)] {
        let mut numbers: Vec<i64> = db
            .list_quotes(tenant)
            .await
            .unwrap()
            .iter()
            .map(|q| q.number.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=expected).collect::<Vec<i64>>());
    }
}

async fn deleting_a_visitor_deletes_their_quotes(db: Db) {
    let (acme, _) = acme_and_other(&db).await;
    let ann = add_visitor(&db, &acme, "ann@example.com").await;
    let conv = db.create_conversation(&acme, conversation("s1", Some(&ann))).await.unwrap();
    db.create_quote(&acme, new_quote(Some(conv), Some(ann.clone()))).await.unwrap();
    let anonymous = db.create_quote(&acme, new_quote(None, None)).await.unwrap();
    assert!(db.delete_visitor(&acme, &ann).await.unwrap());
    assert_eq!(db.list_quotes(&acme).await.unwrap(), vec![anonymous], "their personal data goes with them");
}

async fn turns_votes_and_submission_moves_keep_history_and_rollups_in_step(db: Db) {
    use docent_domain::analytics::{ConversationFilter, NewFeedback, Rating, StatsQuery, day_floor};
    use docent_domain::conversation::{NewSubmission, ToolExecution};
    use docent_store::{FinishTurn, StartTurn, SubmissionMove, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let (other, _) = tenant(&db, "other").await;
    let start = |message: &str| StartTurn {
        conversation: conversation("s1", None),
        user_message: message.to_owned(),
        monthly_cap: None,
    };
    let TurnStart::Started { conversation: c, created: true, history } =
        db.start_turn(&acme, start("Où sont les prix ?")).await.unwrap()
    else {
        panic!("a new conversation starts")
    };
    let texts = |h: &[docent_domain::conversation::StoredMessage]| {
        h.iter().map(|m| format!("{}: {}", m.role, m.content)).collect::<Vec<_>>()
    };
    assert_eq!(texts(&history), ["user: Où sont les prix ?"], "a new conversation's history is its first message");
    let reply = docent_domain::MessageId::generate();
    let execution = ToolExecution {
        tool_name: "escalate".into(),
        tool_type: "ESCALATE_TO_HUMAN".into(),
        input: json!({}),
        result: json!({}),
        success: true,
        summary: "s".into(),
        created_at: Timestamp::now(),
    };
    let finish = FinishTurn {
        conversation_id: c.id.clone(),
        assistant: Some((reply.clone(), "answer".into(), "complete")),
        executions: vec![execution],
        escalated: true,
        visitor_id: None,
    };
    db.finish_turn(&acme, finish).await.unwrap();
    let TurnStart::Started { created: false, history, .. } = db.start_turn(&acme, start("and then?")).await.unwrap()
    else {
        panic!("the conversation goes on")
    };
    assert_eq!(
        texts(&history),
        ["user: Où sont les prix ?", "assistant: answer", "user: and then?"],
        "a known conversation's turn sees every message so far, its own last"
    );
    let vote = |rating| NewFeedback { conversation_id: c.id.clone(), message_id: None, rating, comment: None };
    assert!(db.record_feedback(&acme, vote(Rating::Positive)).await.unwrap().1);
    let (changed, created) = db.record_feedback(&acme, vote(Rating::Negative)).await.unwrap();
    assert!(!created);
    assert_eq!(changed.message_id, reply);
    assert!(matches!(db.record_feedback(&other, vote(Rating::Positive)).await, Err(StorageError::NotFound)));

    let (rows, total) = db.list_conversations(&acme, &ConversationFilter::default(), 1, 20).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(rows[0].first_message.as_deref(), Some("Où sont les prix ?"));
    assert_eq!((rows[0].tool_calls, rows[0].feedback.positive, rows[0].feedback.negative), (1, 0, 1));
    assert_eq!(rows[0].conversation.status, "escalated");
    let day = day_floor(Timestamp::now().millis());
    let q = StatsQuery { from_day: day, to_day: day + 86_400_000, channel: None, segment_id: None, top: 10 };
    let stats = db.conversation_stats(&acme, &q).await.unwrap();
    let totals = stats.days.iter().fold(docent_domain::analytics::Totals::default(), |mut t, d| {
        t.add(&d.totals);
        t
    });
    assert_eq!((totals.conversations, totals.messages, totals.escalated, totals.tool_calls), (1, 3, 1, 1));
    assert_eq!((totals.positive, totals.negative, totals.with_tool_calls), (0, 1, 1));
    assert_eq!(stats.intents, vec![("Où sont les prix ?".to_owned(), 1)]);
    assert!(db.conversation_stats(&other, &q).await.unwrap().days.is_empty());

    let tool = db.create_tool(&acme, tool("Form", None)).await.unwrap();
    let new = NewSubmission { tool_id: tool.id, conversation_id: c.id.clone(), visitor_id: None, data: json!({}) };
    let sub = db.create_submission(&acme, new).await.unwrap();
    assert_eq!(
        db.set_submission_status(&acme, &sub.id, "RESOLVED").await.unwrap(),
        SubmissionMove::Refused { current: "NEW".into() }
    );
    assert!(
        matches!(db.set_submission_status(&acme, &sub.id, "CONTACTED").await.unwrap(), SubmissionMove::Moved(s) if s.status == "CONTACTED")
    );
    assert_eq!(db.set_submission_status(&other, &sub.id, "RESOLVED").await.unwrap(), SubmissionMove::NotFound);
    let detail = db.conversation_detail(&acme, &c.id).await.unwrap().unwrap();
    assert_eq!((detail.messages.len(), detail.submissions.len(), detail.votes.len()), (3, 1, 1));
    assert!(db.conversation_detail(&other, &c.id).await.unwrap().is_none());
}

async fn a_failed_turn_write_leaves_nothing_behind_and_the_writer_usable(db: Db) {
    use docent_store::{FinishTurn, StartTurn, StorageError, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |session: &str| StartTurn {
        conversation: conversation(session, None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
    };
    let TurnStart::Started { conversation: c, .. } = db.start_turn(&acme, start("s1")).await.unwrap() else {
        panic!("a new conversation starts")
    };
    // A reply for a conversation that does not exist fails inside the one-command write…
    let missing = FinishTurn {
        conversation_id: docent_domain::ConversationId::generate(),
        assistant: Some((docent_domain::MessageId::generate(), "lost".into(), "complete")),
        executions: Vec::new(),
        escalated: false,
        visitor_id: None,
    };
    let failed = db.finish_turn(&acme, missing).await;
    assert!(matches!(failed, Err(StorageError::NotFound | StorageError::Other(_))), "{failed:?}");
    // …and leaves no transaction open: the next writes go through and nothing of it remains.
    for _ in 0..3 {
        db.start_turn(&acme, start("s1")).await.unwrap();
    }
    let finish = FinishTurn {
        conversation_id: c.id.clone(),
        assistant: Some((docent_domain::MessageId::generate(), "kept".into(), "complete")),
        executions: Vec::new(),
        escalated: false,
        visitor_id: None,
    };
    let after = db.finish_turn(&acme, finish).await.unwrap();
    assert_eq!(after.message_count, 5);
    let contents: Vec<String> = db.list_messages(&acme, &c.id).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(contents, ["hello", "hello", "hello", "hello", "kept"]);
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (1, 5), "the rollup counts each stored message once");
}

/// On SQLite, concurrent turns are committed in groups: a failing write must fail only itself,
/// and every other one lands exactly once.
async fn concurrent_turn_writes_each_land_once_beside_a_failing_one(db: Db) {
    use docent_store::{FinishTurn, StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |session: String| StartTurn {
        conversation: conversation(&session, None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
    };
    let mut ids = Vec::new();
    for i in 0..20 {
        let TurnStart::Started { conversation: c, .. } = db.start_turn(&acme, start(format!("s{i}"))).await.unwrap()
        else {
            panic!("a new conversation starts")
        };
        ids.push(c.id);
    }
    let mut writes = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let (db1, acme1) = (db.clone(), acme.clone());
        // Conversation 7's reply names a conversation that does not exist.
        let conversation_id = if i == 7 { docent_domain::ConversationId::generate() } else { id.clone() };
        let finish = FinishTurn {
            conversation_id,
            assistant: Some((docent_domain::MessageId::generate(), format!("reply {i}"), "complete")),
            executions: Vec::new(),
            escalated: false,
            visitor_id: None,
        };
        writes.spawn(async move { (format!("finish {i}"), db1.finish_turn(&acme1, finish).await.map(|_| ())) });
        let (db2, acme2, next) = (db.clone(), acme.clone(), start(format!("s{i}")));
        writes.spawn(async move { (format!("start {i}"), db2.start_turn(&acme2, next).await.map(|_| ())) });
    }
    let mut failed = Vec::new();
    while let Some(done) = writes.join_next().await {
        let (what, result) = done.unwrap();
        if result.is_err() {
            failed.push(what);
        }
    }
    assert_eq!(failed, ["finish 7"], "only the bad write fails");
    for (i, id) in ids.iter().enumerate() {
        let messages = db.list_messages(&acme, id).await.unwrap();
        assert_eq!(messages.len(), if i == 7 { 2 } else { 3 }, "conversation {i}: {messages:?}");
    }
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (20, 59), "the rollup counts each stored message once");
}
