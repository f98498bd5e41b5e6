//! Delivers a `webhook` job: POSTs the body, signed per Standard Webhooks with the tool's secret
//! (`webhook-id` stays the same across retries, `webhook-timestamp` is each attempt's). 2xx is
//! success; 410 and other 4xx (but 408 and 429) are permanent; the rest, redirects included (none
//! is followed: the URL checked is the URL called), is retried.

use docent_domain::conversation::Job;

use super::JobError;
use crate::app::App;

pub async fn deliver(app: &App, job: &Job) -> Result<(), JobError> {
    let url = job.payload["url"].as_str().ok_or_else(|| JobError::permanent("webhook job without url"))?;
    crate::outbound::check_url(url, app.config.outbound.allow_private).await.map_err(JobError::permanent)?;
    let body = serde_json::to_vec(&job.payload["body"]).map_err(|e| JobError::permanent(e.to_string()))?;
    let id = format!("msg_{}", job.id.trim_start_matches("job_"));
    let timestamp = docent_domain::Timestamp::now().millis() / 1000;
    let mut request = app
        .http
        .post(url)
        .timeout(std::time::Duration::from_secs(app.config.outbound.timeout_secs))
        .header("content-type", "application/json")
        .header("user-agent", concat!("Docent/", env!("CARGO_PKG_VERSION")))
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(sealed) = job.payload["secret"].as_str() {
        let secret = app.sealer.open(sealed).map_err(|e| JobError::permanent(e.to_string()))?;
        request = request.header("webhook-signature", docent_domain::webhook::sign(&secret, &id, timestamp, &body));
    }
    let response = request.body(body).send().await.map_err(|e| JobError::retry(format!("cannot deliver: {e}")))?;
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(()),
        408 | 429 => Err(JobError::retry(format!("the receiver answered {status}"))),
        400..=499 => Err(JobError::permanent(format!("the receiver answered {status}"))),
        _ => Err(JobError::retry(format!("the receiver answered {status}"))),
    }
}
