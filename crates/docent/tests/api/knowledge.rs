//! The corpus and product APIs: CRUD with pagination, imports that write all or nothing,
//! ranked search with snippets, segment scoping, and replicas that agree right after a write.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn corpus_entries_are_created_listed_paginated_updated_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    app.post("/tenants/acme/segments", json!({"name": "Contact", "systemPrompt": "p"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201);
    let created: Value = app
        .post("/tenants/acme/corpus", json!({"title": "Business hours", "content": "We are open Monday to Friday, 9am to 6pm.", "segment": "contact", "priority": 7, "tags": ["Hours"]}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    assert!(created["id"].as_str().unwrap().starts_with("corp_"));
    assert_eq!(created["segment"], "contact");
    assert_eq!(created["priority"], 7);
    assert_eq!(created["tags"], json!(["hours"]));
    for i in 0..24 {
        app.post("/tenants/acme/corpus", json!({"title": format!("Entry {i}"), "content": "text"}))
            .bearer(&t.token)
            .send()
            .await
            .expect(201);
    }
    let page: Value = app.get("/tenants/acme/corpus?page=2&limit=10").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(page["pagination"], json!({"page": 2, "limit": 10, "total": 25, "pages": 3}));
    assert_eq!(page["corpus"].as_array().unwrap().len(), 10);
    let default: Value = app.get("/tenants/acme/corpus").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(default["pagination"]["limit"], 20);
    let scoped: Value =
        app.get("/tenants/acme/corpus?segment=contact").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(scoped["pagination"]["total"], 1);
    let found: Value = app.get("/tenants/acme/corpus?search=MONDAY").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(found["pagination"]["total"], 1);
    for bad in ["limit=101", "limit=0", "page=0", "page=-1"] {
        app.get(&format!("/tenants/acme/corpus?{bad}"))
            .bearer(&t.token)
            .send()
            .await
            .expect_error(400, "validation_failed");
    }
    app.get("/tenants/acme/corpus?segment=nope").bearer(&t.token).send().await.expect(404);
    let id = created["id"].as_str().unwrap();
    let patched: Value = app
        .patch(&format!("/tenants/acme/corpus/{id}"), json!({"priority": 9, "segment": null}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(patched["priority"], 9);
    assert!(patched["segment"].is_null());
    assert_eq!(patched["title"], "Business hours");
    app.delete(&format!("/tenants/acme/corpus/{id}")).bearer(&t.token).send().await.expect(200);
    app.get(&format!("/tenants/acme/corpus/{id}")).bearer(&t.token).send().await.expect_error(404, "not_found");
}

async fn bad_entries_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    let path = "/tenants/acme/corpus";
    for (body, field) in [
        (json!({"title": "T", "content": "x".repeat(50_001)}), "content"),
        (json!({"title": "T", "content": "c", "priority": 11}), "priority"),
        (json!({"title": "", "content": "c"}), "title"),
        (json!({"title": "T", "content": "c", "segment": "ghost"}), "segment"),
    ] {
        let err: Value = app.post(path, body).bearer(&t.token).send().await.expect(400).json();
        assert_eq!(err["field"], field);
    }
    app.post(path, json!({"title": "T"})).bearer(&t.token).send().await.expect_error(422, "invalid_body");
    let list: Value = app.get(path).bearer(&t.token).send().await.expect(200).json();
    assert_eq!(list["pagination"]["total"], 0);
}

async fn imports_write_all_or_nothing_and_rerun_without_duplicates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    let csv = "title,content,segment,priority,tags\nHours,\"Open 9 to 6, Monday to Friday\",,6,hours;time\nReturns,You have 30 days.,,,returns\n";
    let r: Value = app
        .request("POST".parse().unwrap(), "/tenants/acme/corpus/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(csv)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r, json!({"created": 2, "updated": 0}));
    let again: Value = app
        .request("POST".parse().unwrap(), "/tenants/acme/corpus/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(csv)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(again, json!({"created": 0, "updated": 2}));
    let ndjson = "{\"title\": \"Shipping\", \"content\": \"3 days\", \"key\": \"ship\"}\n{\"title\": \"Bad\", \"content\": \"c\", \"priority\": 11}\n{\"title\": \"Ghost\", \"content\": \"c\", \"segment\": \"ghost\"}\n";
    let err: Value = app
        .request("POST".parse().unwrap(), "/tenants/acme/corpus/import?format=ndjson")
        .bearer(&t.token)
        .raw_body(ndjson)
        .send()
        .await
        .expect(422)
        .json();
    assert_eq!(err["code"], "import_rejected");
    let rows: Vec<u64> = err["rejected"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [2, 3], "every rejected row is reported: {err}");
    for (body, what) in [("title,body\nx,y\n", "unknown column"), ("title,content\n\"broken,quote\nx,y\n", "row")] {
        let err: Value = app
            .request("POST".parse().unwrap(), "/tenants/acme/corpus/import")
            .bearer(&t.token)
            .header("content-type", "text/csv")
            .raw_body(body)
            .send()
            .await
            .expect(422)
            .json();
        assert!(err.to_string().contains(what), "{err}");
    }
    let invalid_utf8 = b"title,content\n\xff\xfe,y\n".to_vec();
    app.request("POST".parse().unwrap(), "/tenants/acme/corpus/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(invalid_utf8)
        .send()
        .await
        .expect(422);
    let list: Value = app.get("/tenants/acme/corpus").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(list["pagination"]["total"], 2, "failed imports wrote nothing");
    let hits: Value =
        app.get("/tenants/acme/corpus/search?q=shipping").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(hits["results"], json!([]), "the index agrees with the store");
}

async fn search_ranks_with_snippets_typos_and_segment_scoping(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    app.post("/tenants/acme/segments", json!({"name": "Support", "systemPrompt": "p"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201);
    for body in [
        json!({"title": "Delivery times", "content": "Delivery takes 3 to 5 business days in France.", "tags": ["shipping"]}),
        json!({"title": "Returns", "content": "Returns are free within 30 days of delivery."}),
        json!({"title": "Warranty claims", "content": "Warranty claims go through the support desk.", "segment": "support"}),
    ] {
        app.post("/tenants/acme/corpus", body).bearer(&t.token).send().await.expect(201);
    }
    let r: Value = app
        .get("/tenants/acme/corpus/search?q=how%20long%20is%20delivry")
        .bearer(&t.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r["results"][0]["title"], "Delivery times");
    assert!(r["results"][0]["score"].as_f64().unwrap() > 0.0);
    assert!(r["results"][0]["snippet"].as_str().unwrap().contains("<b>"), "{r}");
    let general: Value =
        app.get("/tenants/acme/corpus/search?q=warranty").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(general["results"], json!([]), "a segment's entry is hidden outside it");
    let support: Value = app
        .get("/tenants/acme/corpus/search?q=warranty&segment=support")
        .bearer(&t.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(support["results"][0]["title"], "Warranty claims");
    for q in ["%22%20AND(%20title%3A*", "*", "%3A", "%22%22"] {
        app.get(&format!("/tenants/acme/corpus/search?q={q}")).bearer(&t.token).send().await.expect(200);
    }
    app.get("/tenants/acme/corpus/search?q=x&limit=51").bearer(&t.token).send().await.expect(400);
}

async fn titles(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let r: Value = app.get(&format!("/tenants/acme/corpus/search?q={q}")).bearer(token).send().await.expect(200).json();
    r["results"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_owned()).collect()
}

async fn two_processes_on_one_database_agree_right_after_a_write(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = a.restart().await;
    let t = a.tenant("acme").await;
    assert!(titles(&b, &t.token, "parking").await.is_empty());
    let e: Value = a
        .post("/tenants/acme/corpus", json!({"title": "Parking", "content": "Free parking behind the store."}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(titles(&b, &t.token, "parking").await, ["Parking"], "replica B sees A's write at once");
    b.patch(&format!("/tenants/acme/corpus/{}", e["id"].as_str().unwrap()), json!({"title": "Car park"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    assert_eq!(titles(&a, &t.token, "parking").await, ["Car park"]);
    assert_eq!(titles(&a, &t.token, "parking").await, titles(&b, &t.token, "parking").await);
    b.delete(&format!("/tenants/acme/corpus/{}", e["id"].as_str().unwrap())).bearer(&t.token).send().await.expect(200);
    assert!(titles(&a, &t.token, "parking").await.is_empty());
}

async fn products_are_managed_with_unique_skus_and_imports(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    let tent: Value = app
        .post("/tenants/acme/products", json!({"sku": "tent-2p", "name": "Two-person tent", "price": 19900, "currency": "eur", "tags": ["Camping"], "inStock": true, "attributes": {"weight": "2.1 kg"}}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    assert!(tent["id"].as_str().unwrap().starts_with("prod_"));
    assert_eq!(tent["currency"], "EUR");
    assert_eq!(tent["tags"], json!(["camping"]));
    app.post("/tenants/acme/products", json!({"sku": "tent-2p", "name": "Dup", "price": 1}))
        .bearer(&t.token)
        .send()
        .await
        .expect_error(409, "sku_taken");
    app.post("/tenants/acme/products", json!({"sku": "neg", "name": "Neg", "price": -1}))
        .bearer(&t.token)
        .send()
        .await
        .expect_error(400, "validation_failed");
    let id = tent["id"].as_str().unwrap();
    let p: Value = app
        .patch(&format!("/tenants/acme/products/{id}"), json!({"price": 17900, "inStock": false}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!((p["price"].as_i64(), p["inStock"].as_bool()), (Some(17900), Some(false)));
    let csv = "sku,name,price,tags,inStock\nstove-1,Camping stove,4500,camping;cooking,true\ntent-2p,Two-person tent,18900,camping,true\n";
    let r: Value = app
        .request("POST".parse().unwrap(), "/tenants/acme/products/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(csv)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r, json!({"created": 1, "updated": 1}));
    let dup = "sku,name,price\nx,X,1\nx,X again,2\n";
    let err: Value = app
        .request("POST".parse().unwrap(), "/tenants/acme/products/import")
        .bearer(&t.token)
        .header("content-type", "text/csv")
        .raw_body(dup)
        .send()
        .await
        .expect(422)
        .json();
    assert!(err.to_string().contains("appears twice"));
    let list: Value = app.get("/tenants/acme/products").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(list["pagination"]["total"], 2);
    app.delete(&format!("/tenants/acme/products/{id}")).bearer(&t.token).send().await.expect(200);
    app.get(&format!("/tenants/acme/products/{id}")).bearer(&t.token).send().await.expect(404);
}

backend_suite!(
    corpus_entries_are_created_listed_paginated_updated_and_deleted,
    bad_entries_are_refused,
    imports_write_all_or_nothing_and_rerun_without_duplicates,
    search_ranks_with_snippets_typos_and_segment_scoping,
    two_processes_on_one_database_agree_right_after_a_write,
    products_are_managed_with_unique_skus_and_imports,
);
