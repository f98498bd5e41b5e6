//! The background job runner: claims due jobs from the store's queue (leased, so replicas never
//! run one job twice at once), runs them, and reschedules failures with exponential backoff and
//! jitter until `jobs.max_attempts`. Jobs live in the database, so they survive restarts.

mod email;
mod webhook;

use std::time::Duration;

use docent_domain::Timestamp;
use docent_domain::conversation::Job;

use crate::app::App;

/// Why a job attempt failed, and whether another attempt can help.
pub struct JobError {
    pub message: String,
    pub permanent: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true }
    }
}

/// Runs the job loop until the task is aborted.
pub fn spawn(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let poll = Duration::from_millis(app.config.jobs.poll_ms.max(10));
        loop {
            let lease = i64::try_from(app.config.jobs.lease_ms).unwrap_or(i64::MAX);
            match app.store.claim_jobs(Timestamp::now(), lease, 16).await {
                Ok(jobs) if !jobs.is_empty() => {
                    for job in jobs {
                        run(&app, job).await;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim jobs"),
            }
            tokio::time::sleep(poll).await;
        }
    })
}

async fn run(app: &App, job: Job) {
    let result = match job.kind.as_str() {
        "webhook" => webhook::deliver(app, &job).await,
        "email" => email::send(app, &job).await,
        other => Err(JobError::permanent(format!("unknown job kind {other}"))),
    };
    let store = &app.store;
    let outcome = match result {
        Ok(()) => store.complete_job(&job.id).await,
        Err(e) if e.permanent || job.attempts >= app.config.jobs.max_attempts => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %e.message, "job failed for good");
            store.fail_job(&job.id, &e.message).await
        }
        Err(e) => {
            let delay = backoff(app.config.jobs.retry_base_ms, job.attempts);
            tracing::info!(job = %job.id, kind = %job.kind, attempts = job.attempts, retry_in_ms = delay, error = %e.message, "job will be retried");
            store.retry_job(&job.id, Timestamp::now().plus_millis(delay as i64), &e.message).await
        }
    };
    if let Err(e) = outcome {
        tracing::error!(job = %job.id, error = %e, "cannot record a job's outcome");
    }
}

/// `base · 2^(attempt-1)`, capped at a day, with ±20 % jitter.
fn backoff(base_ms: u64, attempt: u32) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(20)).min(86_400_000);
    let jitter = (exp / 5).max(1);
    exp - jitter + rand::random_range(0..=2 * jitter)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter() {
        for attempt in 1..6 {
            let d = super::backoff(1_000, attempt);
            let center = 1_000u64 << (attempt - 1);
            assert!(d >= center * 4 / 5 && d <= center * 6 / 5, "attempt {attempt}: {d}");
        }
        assert!(super::backoff(5_000, 40) <= 86_400_000 * 6 / 5);
    }
}
