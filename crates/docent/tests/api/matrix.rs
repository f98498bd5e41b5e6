//! Walks every tenant route of the OpenAPI description: a token of another tenant gets the same
//! 404 as an unknown tenant everywhere, and each route refuses a token that lacks its scope.

use docent_testkit::{Backend, TestApp, TestTenant, backend_suite};
use serde_json::{Value, json};

/// Every operation on a `/tenants/{slug}...` path, with the scope its security names.
fn tenant_routes() -> Vec<(String, String, String)> {
    let spec = serde_json::to_value(docent::http::openapi()).unwrap();
    let mut routes = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/tenants/{slug}") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let scope = op["security"]
                .as_array()
                .and_then(|s| s.iter().find_map(|req| req.get("bearer")))
                .and_then(|scopes| scopes[0].as_str())
                .unwrap_or_else(|| panic!("{method} {path} documents no scope"));
            routes.push((method.to_uppercase(), path.clone(), scope.to_owned()));
        }
    }
    assert!(routes.len() >= 20, "expected every tenant route, found {}", routes.len());
    routes
}

/// A valid body for each writing route, so that only authorization can refuse it.
fn body_for(method: &str, path: &str) -> Option<Value> {
    let body = match (method, path) {
        ("GET" | "DELETE", _) => return None,
        ("PUT" | "PATCH", "/tenants/{slug}") => json!({"botName": "Walker"}),
        ("POST", "/tenants/{slug}/tokens") => json!({"name": "walk", "scopes": ["corpus:read"]}),
        ("POST", "/tenants/{slug}/segments") => json!({"name": "Walk", "systemPrompt": "p"}),
        ("PUT", "/tenants/{slug}/segments/{id}") => json!({"welcomeMessage": "hi"}),
        ("POST", "/tenants/{slug}/tools") => json!({"name": "Remember", "description": "d", "type": "REMEMBER_FACT"}),
        ("PATCH", "/tenants/{slug}/tools/{id}") => json!({"description": "walked"}),
        ("POST", "/tenants/{slug}/visitors") => json!({"email": "walker@example.com"}),
        ("PATCH", "/tenants/{slug}/visitors/{id}") => json!({"displayName": "W"}),
        ("PATCH", "/tenants/{slug}/submissions/{id}") => json!({"status": "CONTACTED"}),
        ("POST", "/tenants/{slug}/visitors/{id}/memory") => json!({"key": "k2", "value": "v"}),
        ("POST", "/tenants/{slug}/corpus") => json!({"title": "Hours", "content": "9 to 5"}),
        ("PATCH", "/tenants/{slug}/corpus/{id}") => json!({"priority": 6}),
        ("POST", "/tenants/{slug}/corpus/import") => json!({"title": "Walk", "content": "walked"}),
        ("POST", "/tenants/{slug}/products") => json!({"sku": "walk-1", "name": "Walker", "price": 100}),
        ("PATCH", "/tenants/{slug}/products/{id}") => json!({"price": 200}),
        ("POST", "/tenants/{slug}/products/import") => json!({"sku": "walk-2", "name": "Walker 2", "price": 100}),
        _ => panic!("the matrix has no body for {method} {path}: add one"),
    };
    Some(body)
}

/// Real IDs of `owner`'s resources, so a refusal can only come from the tenant check.
struct Ids {
    token: String,
    segment: String,
    tool: String,
    visitor: String,
    conversation: String,
    submission: String,
    corpus: String,
    product: String,
}

async fn seed(app: &TestApp, owner: &TestTenant) -> Ids {
    let slug = &owner.slug;
    let t = &owner.token;
    let token: Value = app
        .post(&format!("/tenants/{slug}/tokens"), json!({"name": "x", "scopes": ["tools:read"]}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let segment: Value = app
        .post(&format!("/tenants/{slug}/segments"), json!({"name": "Sales", "systemPrompt": "sell"}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let tool: Value = app
        .post(
            &format!("/tenants/{slug}/tools"),
            json!({"name": "Esc", "description": "d", "type": "ESCALATE_TO_HUMAN"}),
        )
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let visitor: Value = app
        .post(&format!("/tenants/{slug}/visitors"), json!({"externalId": "u1"}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let vid = visitor["id"].as_str().unwrap();
    app.post(&format!("/tenants/{slug}/visitors/{vid}/memory"), json!({"key": "k", "value": "v"}))
        .bearer(t)
        .send()
        .await
        .expect(201);
    let store = &app.app.store;
    let tenant = store.tenant_by_slug(slug).await.unwrap().unwrap();
    let new = docent_store::NewConversation {
        session_id: "walk".into(),
        visitor_id: None,
        segment_id: None,
        channel: "web".into(),
        visitor_type: "human".into(),
        agent_model: None,
        page_url: None,
        metadata: json!({}),
    };
    let conversation = store.create_conversation(&tenant.id, new).await.unwrap();
    let submission = store
        .create_submission(
            &tenant.id,
            docent_domain::conversation::NewSubmission {
                tool_id: docent_domain::ToolId::parse(tool["id"].as_str().unwrap()).unwrap(),
                conversation_id: conversation.clone(),
                visitor_id: None,
                data: json!({"email": "a@b.c"}),
            },
        )
        .await
        .unwrap();
    let corpus: Value = app
        .post(&format!("/tenants/{slug}/corpus"), json!({"title": "Hours", "content": "Open 9 to 5"}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let product: Value = app
        .post(&format!("/tenants/{slug}/products"), json!({"sku": "p-1", "name": "Tent", "price": 19900}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    Ids {
        corpus: corpus["id"].as_str().unwrap().to_owned(),
        product: product["id"].as_str().unwrap().to_owned(),
        conversation: conversation.to_string(),
        submission: submission.id.to_string(),
        token: token["id"].as_str().unwrap().to_owned(),
        segment: segment["id"].as_str().unwrap().to_owned(),
        tool: tool["id"].as_str().unwrap().to_owned(),
        visitor: vid.to_owned(),
    }
}

fn concrete(path: &str, slug: &str, ids: &Ids) -> String {
    let id = if path.starts_with("/tenants/{slug}/tokens") {
        &ids.token
    } else if path.starts_with("/tenants/{slug}/segments") {
        &ids.segment
    } else if path.starts_with("/tenants/{slug}/tools") {
        &ids.tool
    } else if path.starts_with("/tenants/{slug}/conversations") {
        &ids.conversation
    } else if path.starts_with("/tenants/{slug}/submissions") {
        &ids.submission
    } else if path.starts_with("/tenants/{slug}/corpus") {
        &ids.corpus
    } else if path.starts_with("/tenants/{slug}/products") {
        &ids.product
    } else {
        &ids.visitor
    };
    let url = path.replace("{slug}", slug).replace("{id}", id).replace("{key}", "k");
    // Routes with a required query parameter.
    if path.ends_with("/corpus/search") { format!("{url}?q=hours") } else { url }
}

async fn a_token_of_another_tenant_gets_404_on_every_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.tenant("alice").await;
    let bob = app.tenant("bob").await;
    let ids = seed(&app, &bob).await;
    for (method, path, _) in tenant_routes() {
        let url = concrete(&path, "bob", &ids);
        let unknown = concrete(&path, "nobody-here", &ids);
        for target in [url.clone(), unknown] {
            let mut req = app.request(method.parse().unwrap(), &target).bearer(&alice.token);
            if let Some(body) = body_for(&method, &path) {
                req = req.json(body);
            }
            let message = req.send().await.expect_error(404, "tenant_not_found");
            assert_eq!(message, "Tenant not found", "{method} {target}");
        }
        // The legacy key of another tenant is refused the same way.
        let mut req = app.request(method.parse().unwrap(), &url).header("x-api-key", &alice.api_key);
        if let Some(body) = body_for(&method, &path) {
            req = req.json(body);
        }
        req.send().await.expect_error(404, "tenant_not_found");
    }
    // Nothing of bob's changed.
    let tools: Value = app.get("/tenants/bob/tools").bearer(&bob.token).send().await.expect(200).json();
    assert_eq!(tools.as_array().unwrap().len(), 1);
    assert_eq!(tools[0]["description"], "d");
    let tenant: Value = app.get("/tenants/bob").bearer(&bob.token).send().await.expect(200).json();
    assert_eq!(tenant["botName"], "Assistant");
}

async fn each_route_refuses_a_token_without_its_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.tenant("acme").await;
    let ids = seed(&app, &owner).await;
    let all_scopes = [
        "settings:read",
        "settings:write",
        "tokens:read",
        "tokens:write",
        "segments:read",
        "segments:write",
        "tools:read",
        "tools:write",
        "visitors:read",
        "visitors:write",
        "corpus:read",
        "corpus:write",
        "products:read",
        "products:write",
        "conversations:read",
        "conversations:write",
        "stats:read",
    ];
    for (method, path, scope) in tenant_routes() {
        let others: Vec<&str> = all_scopes.iter().copied().filter(|s| *s != scope).collect();
        let token = app.token(&owner, &others).await;
        let url = concrete(&path, "acme", &ids);
        let mut req = app.request(method.parse().unwrap(), &url).bearer(&token);
        if let Some(body) = body_for(&method, &path) {
            req = req.json(body);
        }
        let message = req.send().await.expect_error(403, "missing_scope");
        assert_eq!(message, format!("Missing required scope: {scope}"));
    }
}

async fn a_token_with_only_the_needed_scope_passes_every_read_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.tenant("acme").await;
    let ids = seed(&app, &owner).await;
    for (method, path, scope) in tenant_routes().into_iter().filter(|(m, _, _)| m == "GET") {
        let token = app.token(&owner, &[&scope]).await;
        app.request(method.parse().unwrap(), &concrete(&path, "acme", &ids)).bearer(&token).send().await.expect(200);
    }
}

backend_suite!(
    a_token_of_another_tenant_gets_404_on_every_route,
    each_route_refuses_a_token_without_its_scope,
    a_token_with_only_the_needed_scope_passes_every_read_route,
);
