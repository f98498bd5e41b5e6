//! Tools: positions, segments, updates and deletes.

use super::*;

pub(crate) async fn tools_default_to_the_next_position_and_list_in_position_order(db: Db) {
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

pub(crate) async fn a_tool_reads_back_its_fields_and_segment_slug(db: Db) {
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

pub(crate) async fn a_tool_in_a_segment_of_another_tenant_is_invalid_and_not_written(db: Db) {
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

pub(crate) async fn updating_a_tool_writes_its_fields_and_another_tenants_tool_is_not_found(db: Db) {
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

pub(crate) async fn deleting_a_tool_removes_it_once(db: Db) {
    let (acme, other) = acme_and_other(&db).await;
    let doomed = db.create_tool(&acme, tool("doomed", None)).await.unwrap();
    let kept = db.create_tool(&acme, tool("kept", None)).await.unwrap();
    assert!(!db.delete_tool(&other, &doomed.id).await.unwrap());
    assert!(db.delete_tool(&acme, &doomed.id).await.unwrap());
    assert!(!db.delete_tool(&acme, &doomed.id).await.unwrap());
    assert_eq!(db.get_tool(&acme, &doomed.id).await.unwrap(), None);
    assert_eq!(db.list_tools(&acme).await.unwrap(), vec![kept]);
}
