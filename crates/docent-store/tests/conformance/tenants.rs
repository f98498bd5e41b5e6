//! Tenants, their tokens and segments.

use super::*;

pub(crate) async fn creating_a_tenant_creates_its_default_segment(db: Db) {
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

pub(crate) async fn a_duplicate_tenant_slug_is_a_conflict(db: Db) {
    tenant(&db, "acme").await;
    let again = NewTenant { api_key_hash: "another-key".to_owned(), ..new_tenant("acme", None) };
    assert_conflict(db.create_tenant(again, segment_in("General")).await, "slug");
    assert_eq!(db.tenant_by_api_key_hash("another-key").await.unwrap(), None);
}

pub(crate) async fn a_tenant_is_found_by_slug_by_id_and_by_api_key_hash(db: Db) {
    let (acme, _) = acme_and_other(&db).await;
    let found = db.tenant_by_slug("acme").await.unwrap().unwrap();
    assert_eq!(found.id, acme);
    assert_eq!(db.tenant_by_id(&acme).await.unwrap(), Some(found.clone()));
    assert_eq!(db.tenant_by_api_key_hash("key-hash-acme").await.unwrap(), Some(found));
    assert_eq!(db.tenant_by_slug("nobody").await.unwrap(), None);
    assert_eq!(db.tenant_by_id(&TenantId::generate()).await.unwrap(), None);
    assert_eq!(db.tenant_by_api_key_hash("no-such-hash").await.unwrap(), None);
}

pub(crate) async fn updating_a_tenant_round_trips_settings_and_admin_fields(db: Db) {
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

pub(crate) async fn child_tenants_are_counted_per_parent(db: Db) {
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

pub(crate) async fn tokens_are_created_listed_found_by_hash_and_deleted(db: Db) {
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

pub(crate) async fn touching_a_token_records_its_last_use(db: Db) {
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

pub(crate) async fn deleting_another_tenants_token_returns_false(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let token = db.create_token(&acme, new_token("ci")).await.unwrap();
    assert!(!db.delete_token(&other, &token.id).await.unwrap());
    assert!(db.list_tokens(&other).await.unwrap().is_empty());
    assert_eq!(db.list_tokens(&acme).await.unwrap(), vec![token]);
}

// ---- Segments ----

pub(crate) async fn segment_slugs_come_from_the_name_and_are_made_unique(db: Db) {
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

pub(crate) async fn a_segment_is_read_by_id_and_by_slug_and_updated(db: Db) {
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

pub(crate) async fn deleting_a_segment_reports_deleted_not_found_or_is_default(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    assert_eq!(db.delete_segment(&acme, &general.id).await.unwrap(), SegmentDeletion::IsDefault);
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::Deleted);
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::NotFound);
    assert_eq!(db.get_segment(&acme, &sales.id).await.unwrap(), None);
    assert_eq!(db.list_segments(&acme).await.unwrap(), vec![general]);
}

pub(crate) async fn a_segment_of_another_tenant_is_invisible(db: Db) {
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

pub(crate) async fn deleting_a_segment_makes_its_tools_general(db: Db) {
    let (acme, general) = tenant(&db, "acme").await;
    let sales = db.create_segment(&acme, segment_in("Sales")).await.unwrap();
    let scoped = db.create_tool(&acme, tool("quote", Some(&sales.id))).await.unwrap();
    let elsewhere = db.create_tool(&acme, tool("contact", Some(&general.id))).await.unwrap();
    assert_eq!(db.delete_segment(&acme, &sales.id).await.unwrap(), SegmentDeletion::Deleted);
    let now_general = db.get_tool(&acme, &scoped.id).await.unwrap().unwrap();
    assert_eq!((now_general.segment_id, now_general.segment_slug), (None, None));
    assert_eq!(db.get_tool(&acme, &elsewhere.id).await.unwrap(), Some(elsewhere));
}
