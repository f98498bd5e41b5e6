//! Conversation counts and quotes.

use super::*;

pub(crate) async fn conversations_are_counted_since_an_instant(db: Db) {
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

pub(crate) fn new_quote(conversation: Option<docent_domain::ConversationId>, visitor: Option<VisitorId>) -> NewQuote {
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

pub(crate) async fn quotes_are_numbered_sequentially_per_tenant_and_read_back(db: Db) {
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

pub(crate) async fn concurrent_quotes_never_share_a_number_and_leave_no_gap(db: Db) {
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

pub(crate) async fn deleting_a_visitor_deletes_their_quotes(db: Db) {
    let (acme, _) = acme_and_other(&db).await;
    let ann = add_visitor(&db, &acme, "ann@example.com").await;
    let conv = db.create_conversation(&acme, conversation("s1", Some(&ann))).await.unwrap();
    db.create_quote(&acme, new_quote(Some(conv), Some(ann.clone()))).await.unwrap();
    let anonymous = db.create_quote(&acme, new_quote(None, None)).await.unwrap();
    assert!(db.delete_visitor(&acme, &ann).await.unwrap());
    assert_eq!(db.list_quotes(&acme).await.unwrap(), vec![anonymous], "their personal data goes with them");
}
