//! `docent dev bench-analytics SLUG`: times the owner analytics routes through the real router
//! (in process, no network), for the figures in `bench/analytics.md`: p50/p95 of stats, list
//! pages (first, middle, last) and a conversation's detail, and the rate of a 5,000-row export.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::Request;
use docent_domain::Timestamp;
use docent_domain::scope::Scope;
use docent_domain::secret::{display_prefix, hash_secret, new_api_token};
use docent_domain::token::NewToken;
use tower::ServiceExt;

use crate::app::Application;

struct Client {
    router: axum::Router,
    token: String,
}

impl Client {
    /// One GET, body read to the end; its time and body.
    async fn get(&self, path: &str) -> anyhow::Result<(Duration, Vec<u8>)> {
        let request =
            Request::get(path).header("authorization", format!("Bearer {}", self.token)).body(Body::empty())?;
        let began = Instant::now();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let took = began.elapsed();
        if !status.is_success() {
            bail!("GET {path} answered {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok((took, body.to_vec()))
    }

    /// p50 and p95 over `runs` timed calls, after one warm-up.
    async fn time(&self, path: &str, runs: usize) -> anyhow::Result<(Duration, Duration)> {
        self.get(path).await?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(self.get(path).await?.0);
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        Ok((at(0.5), at(0.95)))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark and returns a Markdown table.
pub async fn bench_analytics(application: &Application, slug: &str, runs: usize) -> anyhow::Result<String> {
    let app = application.app();
    let tenant = app.store.tenant_by_slug(slug).await?.with_context(|| format!("no tenant `{slug}`"))?;
    let secret = new_api_token();
    let new = NewToken {
        name: "bench-analytics".to_owned(),
        prefix: display_prefix(&secret),
        hash: hash_secret(&secret),
        scopes: vec![Scope::All],
        expires_at: Some(Timestamp::now().plus_millis(3_600_000)),
    };
    let token = app.store.create_token(&tenant.id, new).await?;
    let client = Client { router: application.router(), token: secret };
    let base = format!("/tenants/{slug}/conversations");
    let (_, first) = client.get(&format!("{base}?limit=20")).await?;
    let first: serde_json::Value = serde_json::from_slice(&first)?;
    let pages = first["pagination"]["pages"].as_u64().unwrap_or(1).max(1);
    let total = first["pagination"]["total"].as_u64().unwrap_or(0);
    let id = first["conversations"][0]["id"].as_str().unwrap_or("conv_none").to_owned();
    let year_ago = docent_domain::analytics::window::date_label(Timestamp::now().millis() - 364 * 86_400_000);
    let cases = [
        ("stats, last 30 days (default)".to_owned(), format!("{base}/stats")),
        ("stats, one year, by week".to_owned(), format!("{base}/stats?from={year_ago}&granularity=week")),
        ("stats, 30 days, channel=web".to_owned(), format!("{base}/stats?channel=web")),
        ("list, first page".to_owned(), format!("{base}?limit=20")),
        (format!("list, middle page ({})", pages / 2), format!("{base}?limit=20&page={}", (pages / 2).max(1))),
        (format!("list, last page ({pages})"), format!("{base}?limit=20&page={pages}")),
        ("list, deep page, channel=web".to_owned(), format!("{base}?limit=20&channel=web&page={}", (pages / 3).max(1))),
        ("list, first page, from/to mid-day".to_owned(), format!("{base}?from={year_ago}T12:00:00Z&limit=20")),
        ("conversation detail".to_owned(), format!("{base}/{id}")),
    ];
    let mut out = String::from("| request | p50 ms | p95 ms |\n|---|---:|---:|\n");
    for (name, path) in &cases {
        let (p50, p95) = client.time(path, runs).await?;
        out.push_str(&format!("| {name} | {} | {} |\n", ms(p50), ms(p95)));
    }
    let export = format!("{base}/export?from={year_ago}&limit=5000");
    let (p50, _) = client.time(&export, runs.min(10)).await?;
    let (_, body) = client.get(&export).await?;
    let rows = body.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    let rate = rows as f64 / p50.as_secs_f64();
    out.push_str(&format!("| export, {rows} rows CSV | {} | — |\n", ms(p50)));
    out.push_str(&format!("\n{total} conversations in `{slug}`; export rate at p50: {rate:.0} rows/s.\n"));
    app.store.delete_token(&tenant.id, &token.id).await?;
    Ok(out)
}
