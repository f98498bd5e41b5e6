//! The exports: CSV that Python's `csv` module reads back exactly, formula cells neutralised,
//! NDJSON, the limit and window rules, file names, and the stats datasets.

use std::io::Write;
use std::process::{Command, Stdio};

use docent_domain::analytics::DAY_MS;
use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

use super::fixture::{Spec, conversation, hand_built, today};

/// Rows of a CSV document as Python's `csv` module reads them.
fn python_csv(body: &[u8]) -> Vec<Vec<String>> {
    let mut child = Command::new("python3")
        .args(["-c", "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline='')))))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn the_csv_export_reads_back_in_python_with_formulas_neutralised(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let store = &app.app.store;
    let acme = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let tricky = [
        "=HYPERLINK(\"http://evil.test\",\"click\")",
        "+33 6 12 34 56 78",
        "-1+2",
        "@SUM(A1:A2)",
        "\tindented",
        "a, \"quoted\"\nsecond line — é",
    ];
    let batch = tricky
        .iter()
        .enumerate()
        .map(|(i, first)| {
            let spec = Spec {
                at: today() - DAY_MS + i as i64 * 1_000,
                channel: "web",
                segment: None,
                page: Some("=cmd|'/c calc'!A0"),
                first,
                messages: 2,
                tools: &[],
                rating: None,
            };
            conversation(&spec, &format!("t{i}"))
        })
        .collect();
    store.import_conversations(&acme.id, batch).await.unwrap();
    let response = app.get("/tenants/acme/conversations/export").bearer(&f.tenant.token).send().await.expect(200);
    assert_eq!(response.headers["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"conversations-acme-"), "{disposition}");
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    assert_eq!(response.headers["x-window-capped"], "false");
    let rows = python_csv(&response.body);
    assert_eq!(
        rows[0],
        [
            "id",
            "created_at",
            "updated_at",
            "channel",
            "status",
            "visitor_type",
            "segment",
            "page_url",
            "message_count",
            "tool_calls_count",
            "intent"
        ]
    );
    assert_eq!(rows.len(), 1 + 4 + tricky.len(), "the default window (30 days) leaves the 40-day-old one out");
    let intents: Vec<&str> = rows[1..].iter().map(|r| r[10].as_str()).collect();
    for t in &tricky[..5] {
        assert!(intents.contains(&format!("'{t}").as_str()), "{t} is neutralised: {intents:?}");
    }
    assert!(intents.contains(&tricky[5]), "commas, quotes and newlines survive: {intents:?}");
    assert!(rows[1..].iter().filter(|r| r[0].starts_with("conv_")).count() == rows.len() - 1);
    let c1 = rows.iter().find(|r| r[0] == f.ids[0]).unwrap();
    assert_eq!(c1[3..10], ["web", "BOT", "human", "general", "/pricing?x=1", "4", "2"]);
    let tricky_row = rows.iter().find(|r| r[10] == tricky[5]).unwrap();
    assert_eq!(tricky_row[7], "'=cmd|'/c calc'!A0");
    let c3 = rows.iter().find(|r| r[0] == f.ids[2]).unwrap();
    assert_eq!(c3[4], "ESCALATED");
}

async fn ndjson_limits_windows_and_refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let response =
        app.get("/tenants/acme/conversations/export?format=ndjson&from=2000-01-01").bearer(t).send().await.expect(200);
    assert_eq!(response.headers["content-type"], "application/x-ndjson");
    assert_eq!(response.headers["x-window-capped"], "true", "a window over a year is capped");
    let lines: Vec<Value> =
        String::from_utf8(response.body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["id"], f.ids[0].as_str());
    assert_eq!(lines[1]["tool_calls_count"], 2);
    assert_eq!(lines[1]["intent"], "What are your prices?");
    let two = app.get("/tenants/acme/conversations/export?limit=2&format=csv").bearer(t).send().await.expect(200);
    assert_eq!(python_csv(&two.body).len(), 3);
    let agent = app.get("/tenants/acme/conversations/export?channel=agent").bearer(t).send().await.expect(200);
    assert_eq!(python_csv(&agent.body).len(), 2);
    let none = app.get("/tenants/acme/conversations/export?channel=voice").bearer(t).send().await.expect(200);
    assert_eq!(python_csv(&none.body).len(), 1, "the header alone");
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
        ("format=xml", "format"),
        ("from=2024-05-01&to=2024-04-01", "from"),
        ("to=soon", "to"),
    ] {
        let body: Value =
            app.get(&format!("/tenants/acme/conversations/export?{q}")).bearer(t).send().await.expect(400).json();
        assert_eq!(body["field"], field, "{q}: {body}");
    }
    app.get("/tenants/acme/conversations/export?segment=nope")
        .bearer(t)
        .send()
        .await
        .expect_error(404, "segment_not_found");
    let stats_only = app.token(&f.tenant, &["stats:read"]).await;
    app.get("/tenants/acme/conversations/export").bearer(&stats_only).send().await.expect_error(403, "missing_scope");
}

async fn stats_datasets_export_as_csv_and_ndjson(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let get = |q: &str| {
        let path = format!("/tenants/acme/conversations/stats/export{q}");
        let app = &app;
        async move { app.get(&path).bearer(t).send().await.expect(200) }
    };
    let timeline = get("").await;
    let disposition = timeline.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("stats-timeline-acme-"), "{disposition}");
    let rows = python_csv(&timeline.body);
    assert_eq!(rows[0], ["date", "conversations", "messages"]);
    assert_eq!(rows.len(), 31);
    let intents = python_csv(&get("?dataset=topIntents").await.body);
    assert_eq!(intents[0], ["question", "count"]);
    assert_eq!(intents.len(), 3);
    assert_eq!(intents[1][1], "2");
    let pages = python_csv(&get("?dataset=byPage").await.body);
    assert_eq!(pages, [["page", "conversations"], ["/pricing", "2"], ["/", "1"]]);
    let tools = get("?dataset=topTools&format=ndjson&channel=agent").await;
    let line: Value = serde_json::from_slice(&tools.body).unwrap();
    assert_eq!(line, json!({"name": "escalate_to_human", "calls": 1}));
    let weeks = python_csv(&get("?granularity=month").await.body);
    assert!((2..=3).contains(&weeks.len()));
    for q in ["dataset=everything", "format=xlsx", "granularity=hour"] {
        app.get(&format!("/tenants/acme/conversations/stats/export?{q}")).bearer(t).send().await.expect(400);
    }
}

backend_suite!(
    the_csv_export_reads_back_in_python_with_formulas_neutralised,
    ndjson_limits_windows_and_refusals,
    stats_datasets_export_as_csv_and_ndjson,
);
