//! Seeding a tenant through the public HTTP API, as an owner would: persona, a support segment,
//! the three everyday tools, a generated corpus of realistic shop-support entries, and stored
//! LLM settings pointing at the fake.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use crate::client::{self, Req};
use crate::stack::ADMIN_TOKEN;

/// A seeded tenant: its slug, owner token and the segment visitors chat in.
#[derive(Clone)]
pub struct Tenant {
    pub slug: String,
    pub token: String,
    pub segment: String,
}

/// Creates `slug` with its segment, tools and `corpus` entries, its model being the fake at `fake`.
pub async fn tenant(server: SocketAddr, fake: SocketAddr, slug: &str, corpus: usize) -> anyhow::Result<Tenant> {
    let created = client::json(
        server,
        &Req::post_json("/tenants", &json!({"slug": slug, "name": "Northwind Outdoor"})).bearer(ADMIN_TOKEN),
        201,
    )
    .await?;
    let token = created["token"].as_str().context("POST /tenants returned no token")?.to_owned();
    let settings = json!({
        "botName": "Emma", "botTone": "FRIENDLY",
        "llmProvider": "openai", "llmBaseUrl": format!("http://{fake}/v1"), "llmApiKey": "x",
    });
    client::json(server, &Req::patch_json(format!("/tenants/{slug}"), &settings).bearer(&token), 200).await?;
    let segment = json!({
        "name": "Support",
        "systemPrompt": "You are Emma, the support assistant of Northwind Outdoor, a bike, camping and climbing shop. \
            Answer from the knowledge base, keep answers short, offer the contact form for anything you cannot solve, \
            and hand over to a human when the visitor asks for one.",
        "welcomeMessage": "Hi! I'm Emma. Ask me about orders, repairs, rentals or courses.",
        "conversationStarters": [{"text": "Where is my order?", "emoji": "📦"}, {"text": "Book a bike service", "emoji": "🔧"}],
    });
    let segment =
        client::json(server, &Req::post_json(format!("/tenants/{slug}/segments"), &segment).bearer(&token), 201)
            .await?;
    let segment = segment["slug"].as_str().context("POST segments returned no slug")?.to_owned();
    for tool in tools() {
        client::json(server, &Req::post_json(format!("/tenants/{slug}/tools"), &tool).bearer(&token), 201).await?;
    }
    let tenant = Tenant { slug: slug.to_owned(), token, segment };
    import_corpus(server, &tenant, 0, corpus).await?;
    Ok(tenant)
}

fn tools() -> [Value; 3] {
    [
        json!({"name": "Contact form", "description": "Collect the visitor's contact details when they want to be contacted",
            "type": "SUBMIT_FORM", "config": {"fields": [
                {"name": "name", "label": "Name", "type": "text", "required": true},
                {"name": "email", "label": "Email", "type": "email", "required": true},
                {"name": "message", "label": "Message", "type": "textarea", "required": false}]}}),
        json!({"name": "Memory", "description": "Remember a fact the visitor shares about themselves",
            "type": "REMEMBER_FACT", "config": {}}),
        json!({"name": "Human handoff", "description": "Hand the conversation to a human when asked",
            "type": "ESCALATE_TO_HUMAN", "config": {}}),
    ]
}

/// The most rows one import request may carry.
const IMPORT_ROWS: usize = 10_000;

/// Imports generated entries `from..to`, at most 10,000 per request.
pub async fn import_corpus(server: SocketAddr, tenant: &Tenant, from: usize, to: usize) -> anyhow::Result<()> {
    let mut start = from;
    while start < to {
        let end = (start + IMPORT_ROWS).min(to);
        let mut body = String::new();
        for i in start..end {
            body.push_str(&entry(i).to_string());
            body.push('\n');
        }
        let path = format!("/tenants/{}/corpus/import?format=ndjson", tenant.slug);
        let req = Req::with_body(Method::POST, path, "application/x-ndjson", Bytes::from(body)).bearer(&tenant.token);
        client::json(server, &req, 200).await?;
        start = end;
    }
    Ok(())
}

const TOPICS: [(&str, &str, &str); 10] = [
    (
        "Delivery to {city}",
        "shipping",
        "Orders to {city} leave our {store} warehouse within {n} business days and arrive by tracked courier. \
        Shipping is free above {price} euros; below that a flat fee applies. You receive a tracking link by email as soon as the parcel is handed over.",
    ),
    (
        "Returning a {product}",
        "returns",
        "You can return an unused {product} within {n} days of delivery for a full refund. \
        Bring it to the {store} store with the receipt, or print a prepaid label from your account. Refunds reach your card within five business days.",
    ),
    (
        "{product} warranty",
        "warranty",
        "Every {product} we sell carries a {n}-year warranty against manufacturing defects. \
        Wear parts such as tyres, chains and brake pads are excluded. Keep your receipt: the {store} workshop checks the claim within a week.",
    ),
    (
        "Servicing your {product}",
        "repairs",
        "Our {store} workshop services a {product} in about {n} working days. A standard service costs {price} euros \
        and includes a safety check, cleaning and adjustment. Book online or drop by; we call you before any extra work.",
    ),
    (
        "Renting a {product} in {city}",
        "rentals",
        "The {store} hub rents a {product} from {price} euros per day, helmet included. \
        Reserve at least {n} days ahead in summer. A deposit is held on your card and released when the gear comes back undamaged.",
    ),
    (
        "Beginner course: {product} basics",
        "courses",
        "Our {n}-hour course covers the basics of the {product}: set-up, safety and care. \
        Courses run on Saturdays at the {store} classroom in {city}, for up to eight people, and cost {price} euros including equipment.",
    ),
    (
        "Paying for a {product}",
        "payment",
        "We accept cards, bank transfer and gift cards for a {product}. Orders above {price} euros can be paid in {n} \
        instalments without fees. Invoices for companies are issued on request by the {store} team.",
    ),
    (
        "Gift cards for {city} stores",
        "gift cards",
        "Gift cards from {price} euros are valid for {n} years in every store, including {store}, \
        and online. They cannot be exchanged for cash; the balance is shown on the receipt after each purchase.",
    ),
    (
        "Choosing a {product}",
        "advice",
        "To choose a {product}, think about how often you will use it and where. Our {store} staff in {city} \
        let you try models for {n} minutes in the shop; most customers spend between {price} and twice that amount.",
    ),
    (
        "{store} store in {city}",
        "stores",
        "The {store} store in {city} is open Monday to Saturday, with a workshop and {n} fitting rooms. \
        Parking is free for the first hour; bike racks are by the entrance. The store stocks the full {product} range.",
    ),
];
const CITIES: [&str; 12] = [
    "Kingsport",
    "Millbrook",
    "Ashford",
    "Lyon",
    "Bristol",
    "Ghent",
    "Porto",
    "Bergen",
    "Graz",
    "Turin",
    "Cork",
    "Lund",
];
const PRODUCTS: [&str; 14] = [
    "road bike",
    "gravel bike",
    "e-bike",
    "tent",
    "sleeping bag",
    "climbing harness",
    "rope",
    "backpack",
    "stove",
    "kayak",
    "helmet",
    "trail shoe",
    "headlamp",
    "child seat",
];
const STORES: [&str; 5] = ["Kingsport Flagship", "Millbrook", "Ashford Hub", "Harbour Road", "Riverside"];

/// The `i`-th generated corpus entry: deterministic, varied, 350-450 characters.
pub fn entry(i: usize) -> Value {
    let (title, tag, content) = TOPICS[i % TOPICS.len()];
    let fill = |s: &str| {
        s.replace("{city}", CITIES[(i / 10) % CITIES.len()])
            .replace("{product}", PRODUCTS[(i / 7) % PRODUCTS.len()])
            .replace("{store}", STORES[(i / 3) % STORES.len()])
            .replace("{n}", &(2 + i % 13).to_string())
            .replace("{price}", &(20 + (i * 37) % 480).to_string())
    };
    json!({
        "key": format!("bench-{i}"),
        "title": format!("{} ({i})", fill(title)),
        "content": fill(content),
        "tags": [tag],
        "priority": 1 + i % 10,
    })
}

/// Questions visitors ask, for chat turns and search queries.
pub const QUESTIONS: [&str; 8] = [
    "How long does delivery to Lyon take?",
    "Can I return a tent I bought last week?",
    "What does the warranty on an e-bike cover?",
    "How much is a service for my gravel bike?",
    "Do you rent kayaks in Bergen?",
    "Is there a beginner climbing course on Saturday?",
    "Can I pay for a road bike in instalments?",
    "When is the Ashford Hub store open?",
];
