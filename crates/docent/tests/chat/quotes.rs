//! GENERATE_QUOTE end to end: with the fake LLM, a quote priced from the grid whatever the model
//! says, numbered, stored, in the tool history and emailed over real SMTP to the visitor and the
//! owner; refusals the model can act on; the built-in engine driving a quote; legacy mode.

use docent_testkit::fakellm::{FakeLlm, Reply};
use docent_testkit::{Backend, SmtpSink, TestApp, TestServer, backend_suite};
use serde_json::{Value, json};

use super::{Chat, agent, post};

fn quote_tool() -> Value {
    json!({
        "name": "Quote", "description": "Compute and send a quote", "type": "GENERATE_QUOTE",
        "config": {"pricing": {
            "currency": "EUR",
            "items": [
                {"sku": "site-vitrine", "label": "5-page website", "unit": 150000, "per": "flat"},
                {"sku": "page-supp", "label": "Extra page", "unit": 12000, "per": "unit", "max": 20},
                {"sku": "maintenance", "label": "Monthly maintenance", "unit": 8000, "per": "month"}
            ],
            "rules": [{"whenTotalGte": 300000, "discountPct": 5, "label": "Volume discount"}],
            "vat": 20, "validityDays": 30
        }}
    })
}

/// An app mailing through a real SMTP sink, its job runner, and tenant `acme` with an owner email
/// and the given tool.
async fn setup(backend: Backend, tool: Value) -> (TestApp, TestServer, SmtpSink, tokio::task::JoinHandle<()>) {
    let sink = SmtpSink::start();
    let url = sink.url.clone();
    let app = TestApp::spawn_with(backend, move |c| c.smtp.url = Some(docent::config::Secret::new(url))).await;
    let server = app.serve().await;
    let jobs = app.start_jobs();
    let t = app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"notificationEmail": "owner@acme.test"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    app.post("/tenants/acme/tools", tool).bearer(&t.token).send().await.expect(201);
    (app, server, sink, jobs)
}

async fn via_fake(server: &TestServer, fake: &FakeLlm, message: &str, session: &str) -> Chat {
    let url = fake.base_url();
    let headers = [
        ("x-llm-provider", "anthropic"),
        ("x-llm-key", "sk-test-caller"),
        ("x-llm-model", "test-model"),
        ("x-llm-base-url", url.as_str()),
        ("x-agent-model", "claude-opus-4-7"),
    ];
    post(server, "/chat/acme", &json!({"message": message, "sessionId": session}), &headers).await
}

fn year() -> i32 {
    docent_domain::quote::year_of(docent_domain::Timestamp::now())
}

async fn a_quote_is_priced_from_the_grid_numbered_stored_and_emailed(backend: Backend) {
    let (app, server, sink, jobs) = setup(backend, quote_tool()).await;
    let fake = FakeLlm::start().await.unwrap();
    // The model asks for 2 sites and 10 extra pages, then claims a price of its own.
    fake.push(Reply::tool_call(
        "generate_quote",
        json!({"items": [{"sku": "site-vitrine", "quantity": 2}, {"sku": "page-supp", "quantity": 10}],
               "name": "Ann Martin", "email": "ann@example.com"}),
    ));
    fake.push(Reply::text("Your quote comes to 99.00 EUR."));
    let r = via_fake(&server, &fake, "Quote me 2 sites and 10 extra pages", "q1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let e = r.json();
    // 300000 + 120000 = 420000; 5 % off = 21000; net 399000; VAT 79800; total 478800.
    let number = format!("Q-{}-0001", year());
    let exec = &e["toolExecutions"][0];
    assert_eq!(exec["type"], "GENERATE_QUOTE");
    assert_eq!(exec["success"], true);
    assert_eq!(exec["summary"], format!("Quote {number}: 4,788.00 EUR"));
    let data = &exec["data"];
    assert_eq!(data["quoteNumber"], number);
    assert_eq!((data["subtotal"].as_i64(), data["discount"].as_i64()), (Some(420_000), Some(21_000)));
    assert_eq!((data["vat"].as_i64(), data["total"].as_i64()), (Some(79_800), Some(478_800)));
    assert_eq!(data["currency"], "EUR");
    assert_eq!(
        data["lines"][1],
        json!({"sku": "page-supp", "label": "Extra page", "quantity": 10, "unit": 12000, "amount": 120000})
    );
    let envelope = e.to_string();
    assert!(!envelope.contains("ann@example.com") && !envelope.contains("Ann Martin"), "raw inputs stay out");
    // The model read the computed figures back.
    let fed_back = fake.last_request().unwrap().body.to_string();
    assert!(fed_back.contains("4,788.00 EUR"), "{fed_back}");
    // The owner's tool history keeps everything; the quote row holds the computation.
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&acme.id, "q1").await.unwrap().unwrap();
    let history = app.app.store.list_tool_executions(&acme.id, &conv.id).await.unwrap();
    let h = history.iter().find(|h| h.tool_type == "GENERATE_QUOTE").unwrap();
    assert!(h.success);
    assert_eq!(h.input["email"], "ann@example.com");
    assert_eq!(h.result["email"], "ann@example.com");
    assert_eq!(h.result["quote"]["total"], 478_800);
    assert_eq!(h.result["emailsQueued"], 2);
    let quotes = app.app.store.list_quotes(&acme.id).await.unwrap();
    assert_eq!(quotes.len(), 1);
    let q = &quotes[0];
    assert_eq!((q.number.as_str(), q.total, q.vat), (number.as_str(), 478_800, Some(79_800)));
    assert_eq!(q.conversation_id.as_ref(), Some(&conv.id));
    assert_eq!(q.customer_email, "ann@example.com");
    // Two emails over SMTP: the visitor's quote and the owner's copy.
    let mails = sink.wait_messages(2, 15).await;
    let mut to: Vec<String> = mails.iter().map(|m| m["to"][0].as_str().unwrap().to_owned()).collect();
    to.sort();
    assert_eq!(to, ["ann@example.com", "owner@acme.test"]);
    for m in &mails {
        let body = m["data"].as_str().unwrap();
        assert!(body.contains(&number), "{body}");
        assert!(body.contains("Total including tax: 4,788.00 EUR"), "{body}");
        assert!(body.contains("Volume discount (5%): -210.00 EUR"), "{body}");
    }
    // The next quote of the tenant takes the next number.
    fake.push(Reply::tool_call(
        "generate_quote",
        json!({"items": [{"sku": "maintenance", "quantity": 12}], "name": "Bo", "email": "bo@example.com"}),
    ));
    fake.push(Reply::text("Done."));
    let e = via_fake(&server, &fake, "And maintenance for a year", "q2").await.json();
    assert_eq!(e["toolExecutions"][0]["data"]["quoteNumber"], format!("Q-{}-0002", year()));
    assert_eq!(e["toolExecutions"][0]["data"]["total"], 115_200);
    jobs.abort();
}

async fn unknown_skus_and_over_max_quantities_are_refused_so_the_model_can_correct(backend: Backend) {
    let (app, server, _sink, jobs) = setup(backend, quote_tool()).await;
    let fake = FakeLlm::start().await.unwrap();
    let cases = [
        ("logo", 1, "Unknown sku logo; available: site-vitrine, page-supp, maintenance"),
        ("page-supp", 25, "page-supp allows at most 20"),
    ];
    for (i, (sku, quantity, refusal)) in cases.into_iter().enumerate() {
        fake.push(Reply::tool_call(
            "generate_quote",
            json!({"items": [{"sku": sku, "quantity": quantity}], "name": "Ann", "email": "ann@example.com"}),
        ));
        fake.push(Reply::text("Let me adjust that."));
        let e = via_fake(&server, &fake, "A quote please", &format!("bad-{i}")).await.json();
        let exec = &e["toolExecutions"][0];
        assert_eq!(exec["success"], false, "{e}");
        assert!(exec["summary"].as_str().unwrap().contains(refusal), "{exec}");
        let fed_back = fake.last_request().unwrap().body.to_string();
        assert!(fed_back.contains(refusal), "the model is told why: {fed_back}");
    }
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    assert!(app.app.store.list_quotes(&acme.id).await.unwrap().is_empty(), "nothing stored, no number used");
    jobs.abort();
}

async fn the_builtin_engine_collects_items_name_and_email_then_quotes(backend: Backend) {
    let (app, server, sink, jobs) = setup(backend, quote_tool()).await;
    let say = |m: &str| json!({"message": m, "sessionId": "builtin-quote"});
    let ask = agent(&server, "acme", say("Can I get a quote for a 5-page website and 3 extra pages?")).await.json();
    assert_eq!(ask["message"], "For the quote, what is your name?");
    let ask = agent(&server, "acme", say("Ann Martin")).await.json();
    assert_eq!(ask["message"], "For the quote, what is your email?");
    let done = agent(&server, "acme", say("ann@example.com")).await.json();
    // 150000 + 36000 = 186000, under the discount threshold; VAT 37200; total 223200.
    let number = format!("Q-{}-0001", year());
    let message = done["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("Your quote {number}:")), "{message}");
    assert!(message.contains("total 2,232.00 EUR including tax"), "{message}");
    assert_eq!(done["toolExecutions"][0]["data"]["total"], 223_200);
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    assert_eq!(app.app.store.list_quotes(&acme.id).await.unwrap().len(), 1);
    sink.wait_messages(2, 15).await;
    jobs.abort();
}

async fn a_legacy_quote_request_is_stored_and_sends_the_two_notifications(backend: Backend) {
    let legacy = json!({"name": "Quote", "description": "Request a quote", "type": "GENERATE_QUOTE"});
    let (app, server, sink, jobs) = setup(backend, legacy).await;
    let say = |m: &str| json!({"message": m, "sessionId": "legacy"});
    assert_eq!(
        agent(&server, "acme", say("I would like a quote")).await.json()["message"],
        "For the quote, what is your name?"
    );
    agent(&server, "acme", say("Ann Martin")).await;
    assert_eq!(
        agent(&server, "acme", say("ann@example.com")).await.json()["message"],
        "For the quote, what is your project?"
    );
    let done = agent(&server, "acme", say("A shop with 40 products")).await.json();
    let exec = &done["toolExecutions"][0];
    assert_eq!((exec["type"].as_str(), exec["success"].as_bool()), (Some("GENERATE_QUOTE"), Some(true)), "{done}");
    assert!(done["message"].as_str().unwrap().starts_with("Thank you! Your quote request"));
    assert_eq!(done["contactSubmitted"], true);
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    assert!(app.app.store.list_quotes(&acme.id).await.unwrap().is_empty(), "nothing priced");
    let mails = sink.wait_messages(2, 15).await;
    let owner = mails.iter().find(|m| m["to"][0] == "owner@acme.test").unwrap();
    assert!(owner["data"].as_str().unwrap().contains("A shop with 40 products"));
    let visitor = mails.iter().find(|m| m["to"][0] == "ann@example.com").unwrap();
    assert!(visitor["data"].as_str().unwrap().contains("Thank you for your quote request"));
    jobs.abort();
}

backend_suite!(
    a_quote_is_priced_from_the_grid_numbered_stored_and_emailed,
    unknown_skus_and_over_max_quantities_are_refused_so_the_model_can_correct,
    the_builtin_engine_collects_items_name_and_email_then_quotes,
    a_legacy_quote_request_is_stored_and_sends_the_two_notifications,
);
