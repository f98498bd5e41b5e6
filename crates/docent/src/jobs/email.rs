//! Sends an `email` job (a submission notification, or a ready-made `text` body such as a quote)
//! over SMTP with lettre. The whole SMTP conversation is bounded by `smtp.timeout_secs` (lettre's
//! own timeout covers only connect).

use docent_domain::conversation::Job;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::JobError;
use crate::app::App;

fn body(job: &Job) -> String {
    let p = &job.payload;
    // A ready-made body (quotes, acknowledgements) is sent as is.
    if let Some(text) = p["text"].as_str() {
        return text.to_owned();
    }
    let mut text = format!(
        "A visitor submitted \"{}\" on {}.\n\n",
        p["tool"].as_str().unwrap_or("a form"),
        p["tenant"].as_str().unwrap_or("your site")
    );
    for field in p["fields"].as_array().into_iter().flatten() {
        let value = match &field["value"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!("{}: {}\n", field["label"].as_str().unwrap_or("?"), value));
    }
    text.push_str(&format!("\nSubmission: {}\n", p["submissionId"].as_str().unwrap_or("?")));
    text
}

pub async fn send(app: &App, job: &Job) -> Result<(), JobError> {
    let smtp = &app.config.smtp;
    let Some(url) = &smtp.url else {
        return Err(JobError::permanent("no SMTP server is configured (smtp.url)"));
    };
    let to: Mailbox = job.payload["to"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e| JobError::permanent(format!("bad recipient: {e}")))?;
    let from: Mailbox = smtp.from.parse().map_err(|e| JobError::permanent(format!("bad smtp.from: {e}")))?;
    let subject = job.payload["subject"].as_str().unwrap_or("New submission");
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body(job))
        .map_err(|e| JobError::permanent(format!("cannot build the email: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
        .map_err(|e| JobError::permanent(format!("bad smtp.url: {e}")))?
        .build();
    let timeout = std::time::Duration::from_secs(smtp.timeout_secs);
    match tokio::time::timeout(timeout, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(JobError::permanent(format!("SMTP refused: {e}"))),
        Ok(Err(e)) => Err(JobError::retry(format!("SMTP failed: {e}"))),
        Err(_) => Err(JobError::retry("SMTP timed out")),
    }
}
