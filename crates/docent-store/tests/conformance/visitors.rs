//! Visitors and their memory.

use super::*;

pub(crate) async fn visitors_are_listed_newest_first_with_limit_offset_and_total(db: Db) {
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

pub(crate) async fn visitor_search_is_case_insensitive_over_email_name_and_external_id(db: Db) {
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

pub(crate) async fn visitor_search_matches_percent_and_underscore_literally(db: Db) {
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

pub(crate) async fn a_visitor_detail_counts_conversations_and_memory_facts(db: Db) {
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

pub(crate) async fn updating_a_visitor_writes_its_fields(db: Db) {
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

pub(crate) async fn a_duplicate_email_or_external_id_is_a_conflict_within_a_tenant_only(db: Db) {
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

pub(crate) async fn deleting_a_visitor_removes_their_conversations_and_memory(db: Db) {
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

pub(crate) async fn upserting_a_fact_creates_it_then_replaces_its_value(db: Db) {
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

/// The chat turn's write: a fact created, then replaced in place; nothing for another
/// tenant's visitor.
pub(crate) async fn remembering_a_fact_creates_then_replaces_it_for_this_tenants_visitor_only(db: Db) {
    let (acme, _) = tenant(&db, "acme").await;
    let (other, _) = tenant(&db, "other").await;
    let ann = add_visitor(&db, &acme, "ann@x.test").await;
    db.remember_fact(&acme, &ann, "favorite_color", "blue").await.unwrap();
    let first = db.get_memory(&acme, &ann, "favorite_color").await.unwrap().unwrap();
    assert_eq!(first.value, "blue");
    db.remember_fact(&acme, &ann, "favorite_color", "green").await.unwrap();
    let second = db.get_memory(&acme, &ann, "favorite_color").await.unwrap().unwrap();
    assert_eq!((second.value.as_str(), second.created_at), ("green", first.created_at));
    assert!(second.updated_at >= first.updated_at);
    let refused = db.remember_fact(&other, &ann, "favorite_color", "red").await;
    assert!(matches!(refused, Err(docent_store::StorageError::NotFound)), "{refused:?}");
    assert_eq!(db.list_memory(&acme, &ann).await.unwrap(), vec![second], "the other tenant wrote nothing");
}

pub(crate) async fn memory_facts_list_in_key_order_and_delete_once(db: Db) {
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

pub(crate) async fn the_memory_of_another_tenants_visitor_is_not_found(db: Db) {
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

pub(crate) async fn racing_finds_or_creates_of_one_external_id_share_one_visitor(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (db, acme) = (db.clone(), acme.clone());
        racing.spawn(async move { db.find_or_create_visitor(&acme, visitor(None, None, Some("session:s1"))).await });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(done) = racing.join_next().await {
        ids.insert(done.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 1, "one visitor for one external ID");
    let (listed, total) = db.list_visitors(&acme, &query(10, 0, "")).await.unwrap();
    assert_eq!((total, listed[0].external_id.as_deref()), (1, Some("session:s1")));
    // An existing visitor is found, not rewritten: its name stays.
    let ann = db.create_visitor(&acme, visitor(Some("ann@x.test"), Some("Ann"), Some("crm-1"))).await.unwrap();
    let found = db.find_or_create_visitor(&acme, visitor(None, Some("Other"), Some("crm-1"))).await.unwrap();
    assert_eq!(found, ann);
    // The same ID in another tenant is another visitor.
    let theirs = db.find_or_create_visitor(&other, visitor(None, None, Some("session:s1"))).await.unwrap();
    assert!(!ids.contains(&theirs.id));
    // A new visitor whose email is taken is a conflict and writes nothing; no ID is invalid.
    let taken = db.find_or_create_visitor(&acme, visitor(Some("ann@x.test"), None, Some("crm-2"))).await;
    assert!(matches!(taken, Err(StorageError::Conflict { .. })), "{taken:?}");
    let none = db.find_or_create_visitor(&acme, visitor(None, None, None)).await;
    assert!(matches!(none, Err(StorageError::Invalid { .. })), "{none:?}");
    assert_eq!(db.list_visitors(&acme, &query(10, 0, "")).await.unwrap().1, 2);
}
