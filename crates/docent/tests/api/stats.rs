//! `GET /tenants/{slug}/conversations/stats` on the hand-built fixture: exact totals, buckets,
//! breakdowns and top lists, the window rules and the refusals.

use docent_domain::analytics::DAY_MS;
use docent_domain::analytics::window::date_label;
use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

use super::fixture::{hand_built, today};

async fn stats_on_a_hand_built_history_are_exact(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let s: Value = app.get("/tenants/acme/conversations/stats").bearer(&f.tenant.token).send().await.expect(200).json();
    let t = today();
    assert_eq!(s["window"]["from"], docent_domain::Timestamp::from_millis(t - 29 * DAY_MS).to_string());
    assert_eq!(s["window"]["to"], docent_domain::Timestamp::from_millis(t + DAY_MS).to_string());
    assert_eq!(s["window"]["granularity"], "day");
    assert_eq!(s["window"]["capped"], false);
    assert_eq!(
        s["totals"],
        json!({"conversations": 4, "messages": 14, "escalated": 1, "avgMessagesPerConversation": 3.5,
               "withToolCalls": 2, "toolCallsTotal": 3})
    );
    assert_eq!(s["satisfaction"], json!({"positive": 2, "negative": 1, "rate": 0.6667}));
    assert_eq!(s["byChannel"], json!({"agent": 1, "web": 3}));
    assert_eq!(s["bySegment"], json!({"general": 3, "pricing": 1}));
    assert_eq!(s["byStatus"], json!({"BOT": 3, "ESCALATED": 1}));
    assert_eq!(s["byVisitorType"], json!({"agent": 1, "human": 3}));
    assert_eq!(
        s["topTools"],
        json!([{"name": "contact_form", "calls": 1}, {"name": "escalate_to_human", "calls": 1},
               {"name": "search_corpus", "calls": 1}])
    );
    assert_eq!(s["byPage"], json!([{"page": "/pricing", "conversations": 2}, {"page": "/", "conversations": 1}]));
    let intents = s["topIntents"].as_array().unwrap();
    assert_eq!(intents.len(), 2, "{intents:?}");
    for (intent, variants) in [
        (&intents[0], ["Où est ma commande ?", "ou est MA commande"]),
        (&intents[1], ["What are your prices?", "what are your PRICES"]),
    ] {
        assert_eq!(intent["count"], 2);
        assert!(variants.contains(&intent["question"].as_str().unwrap()), "{intent}");
    }
    let timeline = s["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 30, "empty days are present");
    assert_eq!(timeline[0], json!({"date": date_label(t - 29 * DAY_MS), "conversations": 0, "messages": 0}));
    assert_eq!(timeline[27], json!({"date": date_label(t - 2 * DAY_MS), "conversations": 2, "messages": 6}));
    assert_eq!(timeline[24], json!({"date": date_label(t - 5 * DAY_MS), "conversations": 2, "messages": 8}));
    assert_eq!(timeline.iter().map(|p| p["conversations"].as_u64().unwrap()).sum::<u64>(), 4);
    assert!(s.get("allTime").is_none());
}

async fn filters_granularity_and_all_time_change_the_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let get = |q: &str| {
        let path = format!("/tenants/acme/conversations/stats{q}");
        let t = f.tenant.token.clone();
        let app = &app;
        async move { app.get(&path).bearer(&t).send().await.expect(200).json::<Value>() }
    };
    let agent = get("?channel=agent").await;
    assert_eq!(agent["totals"]["conversations"], 1);
    assert_eq!(agent["byStatus"], json!({"ESCALATED": 1}));
    assert_eq!(agent["topTools"], json!([{"name": "escalate_to_human", "calls": 1}]));
    let pricing = get("?segment=pricing").await;
    assert_eq!(pricing["totals"]["conversations"], 1);
    assert_eq!(pricing["satisfaction"], json!({"positive": 0, "negative": 1, "rate": 0.0}));
    let all = get("?window=all").await;
    assert_eq!(all["allTime"]["conversations"], 5);
    assert_eq!(all["allTime"]["messages"], 16);
    assert_eq!(all["totals"]["conversations"], 4);
    let weeks = get("?granularity=week").await;
    let total: u64 = weeks["timeline"].as_array().unwrap().iter().map(|p| p["conversations"].as_u64().unwrap()).sum();
    assert_eq!(total, 4);
    assert!((5..=6).contains(&weeks["timeline"].as_array().unwrap().len()));
    let months = get("?granularity=month").await;
    assert!((1..=2).contains(&months["timeline"].as_array().unwrap().len()));
    let t = today();
    let one_day = get(&format!("?from={d}&to={d}", d = date_label(t - 2 * DAY_MS))).await;
    assert_eq!(one_day["totals"]["conversations"], 2);
    assert_eq!(one_day["timeline"].as_array().unwrap().len(), 1);
    let long = get(&format!("?from={}", date_label(t - 800 * DAY_MS))).await;
    assert_eq!(long["window"]["capped"], true);
    assert_eq!(long["window"]["requestedFrom"], docent_domain::Timestamp::from_millis(t - 800 * DAY_MS).to_string());
    assert_eq!(long["timeline"].as_array().unwrap().len(), 365);
    assert_eq!(long["totals"]["conversations"], 5);
    let empty = get("?channel=voice").await;
    assert_eq!(empty["totals"]["conversations"], 0);
    assert_eq!(empty["totals"]["avgMessagesPerConversation"], 0.0);
    assert_eq!(empty["satisfaction"]["rate"], Value::Null);
}

async fn bad_stats_parameters_are_clear_400s_and_404s(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    for (q, code, field) in [
        ("?granularity=hour", "validation_failed", "granularity"),
        ("?from=2024-02-10&to=2024-01-10", "validation_failed", "from"),
        ("?from=yesterday", "validation_failed", "from"),
        ("?to=2024-13-45", "validation_failed", "to"),
        ("?window=forever", "validation_failed", "window"),
    ] {
        let body: Value =
            app.get(&format!("/tenants/acme/conversations/stats{q}")).bearer(t).send().await.expect(400).json();
        assert_eq!(body["code"], code, "{q}: {body}");
        assert_eq!(body["field"], field, "{q}: {body}");
    }
    app.get("/tenants/acme/conversations/stats?nope=1").bearer(t).send().await.expect_error(400, "invalid_query");
    app.get("/tenants/acme/conversations/stats?segment=nope")
        .bearer(t)
        .send()
        .await
        .expect_error(404, "segment_not_found");
}

async fn ak_tokens_work_as_bearer_only_and_need_stats_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let path = "/tenants/acme/conversations/stats";
    app.get(path).header("x-api-key", &f.tenant.token).send().await.expect_error(401, "unauthorized");
    app.get(path).header("x-api-key", &f.tenant.api_key).send().await.expect(200);
    let reader = app.token(&f.tenant, &["conversations:read"]).await;
    app.get(path).bearer(&reader).send().await.expect_error(403, "missing_scope");
    let stats = app.token(&f.tenant, &["stats:read"]).await;
    app.get(path).bearer(&stats).send().await.expect(200);
    let bob = app.tenant("bob").await;
    app.get(path).bearer(&bob.token).send().await.expect_error(404, "tenant_not_found");
}

backend_suite!(
    stats_on_a_hand_built_history_are_exact,
    filters_granularity_and_all_time_change_the_numbers,
    bad_stats_parameters_are_clear_400s_and_404s,
    ak_tokens_work_as_bearer_only_and_need_stats_read,
);
