//! Knowledge in chat, end to end: answers from the corpus (built-in engine and a model that
//! receives the entries with their ids), EXPLORE_CORPUS in two-tier mode, and product
//! recommendations whose prices come from the catalog.

use docent_testkit::fakellm::{FakeLlm, Reply};
use docent_testkit::{Backend, TestApp, TestTenant, backend_suite};
use serde_json::{Value, json};

use super::{agent, post};

async fn with_corpus(app: &TestApp) -> TestTenant {
    let t = app.tenant("acme").await;
    let ndjson = "{\"title\": \"Business hours\", \"content\": \"We are open Monday to Friday, 9am to 6pm, and Saturday 10am to 4pm.\", \"summary\": \"When the shop is open\"}\n\
                  {\"title\": \"Returns\", \"content\": \"You can return any item within 30 days with its receipt.\", \"summary\": \"How to return an item\"}\n";
    app.request("POST".parse().unwrap(), "/tenants/acme/corpus/import?format=ndjson")
        .bearer(&t.token)
        .raw_body(ndjson)
        .send()
        .await
        .expect(200);
    t
}

async fn the_builtin_engine_answers_from_the_corpus_or_says_it_does_not_know(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    with_corpus(&app).await;
    let e = agent(&server, "acme", json!({"message": "What are your business hours?", "sessionId": "k1"})).await.json();
    assert!(e["message"].as_str().unwrap().contains("Monday to Friday"), "{e}");
    let e = agent(&server, "acme", json!({"message": "Do you rent kayaks?", "sessionId": "k2"})).await.json();
    assert!(e["message"].as_str().unwrap().starts_with("I don't know"), "{e}");
}

async fn a_model_receives_the_best_entries_with_their_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    with_corpus(&app).await;
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("We're open weekdays 9 to 6."));
    let headers = [
        ("x-agent-model", "m"),
        ("x-llm-provider", "anthropic"),
        ("x-llm-key", "k"),
        ("x-llm-base-url", fake.base_url().leak() as &str),
    ];
    let r =
        post(&server, "/chat/acme", &json!({"message": "When are you open on Saturday?", "sessionId": "k3"}), &headers)
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sent = fake.last_request().unwrap().body.to_string();
    assert!(sent.contains("Saturday 10am to 4pm") && sent.contains("[corp_"), "the entry and its id reach the model");
}

async fn two_tier_mode_explores_the_corpus_on_demand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = with_corpus(&app).await;
    app.patch("/tenants/acme", json!({"corpusSummaryMode": true})).bearer(&t.token).send().await.expect(200);
    let e = agent(&server, "acme", json!({"message": "What are your business hours?", "sessionId": "tt"})).await.json();
    let ex = &e["toolExecutions"][0];
    assert_eq!(ex["name"], "explore_corpus");
    assert_eq!(ex["type"], "EXPLORE_CORPUS");
    assert_eq!(ex["summary"], "Found 1 entry: business-hours", "{e}");
    assert_eq!(ex["data"]["entries"][0]["title"], "Business hours");
    assert!(ex["data"]["entries"][0]["id"].as_str().unwrap().starts_with("corp_"));
    assert!(e["message"].as_str().unwrap().contains("Monday to Friday"), "{e}");
    // The context held summaries only; the full entry came through the tool.
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::tool_call("explore_corpus", json!({"query": "returns"})));
    fake.push(Reply::text("30 days."));
    let headers = [
        ("x-agent-model", "m"),
        ("x-llm-provider", "openai"),
        ("x-llm-key", "k"),
        ("x-llm-base-url", fake.openai_base_url().leak() as &str),
    ];
    let r = post(&server, "/chat/acme", &json!({"message": "How do returns work?", "sessionId": "tt2"}), &headers)
        .await
        .json();
    assert_eq!(r["toolExecutions"][0]["summary"], "Found 1 entry: returns");
    let requests = fake.requests();
    let first = requests[requests.len() - 2].body.to_string();
    assert!(first.contains("How to return an item") && !first.contains("with its receipt"), "summaries only at first");
    assert!(requests.last().unwrap().body.to_string().contains("with its receipt"), "the tool brought the full entry");
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&acme.id, "tt2").await.unwrap().unwrap();
    let history = app.app.store.list_tool_executions(&acme.id, &conv.id).await.unwrap();
    assert_eq!(history[0].tool_type, "EXPLORE_CORPUS");
    assert_eq!(history[0].input["query"], "returns");
}

async fn product_recommendations_show_catalog_prices(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    let csv = "sku,name,description,price,currency,url,tags,inStock\n\
               tent-2p,Two-person tent,Light tent for two,19900,EUR,https://shop.test/tent,camping,true\n\
               tent-4p,Family tent,Roomy tent for four,34900,EUR,https://shop.test/family,camping,true\n\
               stove-1,Camping stove,Compact gas stove,4500,EUR,https://shop.test/stove,cooking,false\n";
    app.request("POST".parse().unwrap(), "/tenants/acme/products/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(csv)
        .send()
        .await
        .expect(200);
    let e = agent(&server, "acme", json!({"message": "Can you recommend a tent?", "sessionId": "p1"})).await.json();
    let ex = &e["toolExecutions"][0];
    assert_eq!(ex["type"], "RECOMMEND_PRODUCT", "{e}");
    let products = ex["data"]["products"].as_array().unwrap();
    assert!(products.iter().any(|p| p["sku"] == "tent-2p"
        && p["price"] == 19900
        && p["currency"] == "EUR"
        && p["url"] == "https://shop.test/tent"));
    assert!(e["message"].as_str().unwrap().contains("199.00 EUR"), "{e}");
    // A model asks with a price ceiling; whatever it then writes, the data is the catalog's.
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::tool_call("recommend_product", json!({"query": "tent", "maxPrice": 20000})));
    fake.push(Reply::text("The two-person tent is only 9.99!"));
    let headers = [
        ("x-agent-model", "m"),
        ("x-llm-provider", "anthropic"),
        ("x-llm-key", "k"),
        ("x-llm-base-url", fake.base_url().leak() as &str),
    ];
    let r: Value =
        post(&server, "/chat/acme", &json!({"message": "A tent under 200 euros?", "sessionId": "p2"}), &headers)
            .await
            .json();
    let shown = r["toolExecutions"][0]["data"]["products"].as_array().unwrap().clone();
    assert_eq!(shown.len(), 1, "{r}");
    assert_eq!(shown[0]["price"], 19900);
    assert!(
        fake.last_request().unwrap().body.to_string().contains("199.00 EUR"),
        "the model is told the catalog price"
    );
}

backend_suite!(
    the_builtin_engine_answers_from_the_corpus_or_says_it_does_not_know,
    a_model_receives_the_best_entries_with_their_ids,
    two_tier_mode_explores_the_corpus_on_demand,
    product_recommendations_show_catalog_prices,
);
