//! Bounded retries around any provider. Only failures before the first event are retried (the
//! HTTP error, or an error that is the stream's first item, such as Anthropic's in-stream
//! `overloaded_error`): once text has reached the visitor a retry would repeat it.

use std::{
    hash::{BuildHasher, RandomState},
    time::Duration,
};

use futures::StreamExt;

use crate::{ChatRequest, FaultClass, LlmError, LlmProvider, LlmStream};

/// A provider that retries retryable early failures with exponential backoff.
pub struct Retrying<P> {
    inner: P,
    max_attempts: u32,
    base_backoff: Duration,
    max_delay: Duration,
}

/// Wraps `provider`: at most `max_attempts` calls in all, waiting about `base_backoff`, then
/// twice that, and so on (with jitter), never more than [`Retrying::DEFAULT_MAX_DELAY`]. A
/// `retry-after` hint is honoured; one longer than the cap ends the retries at once, since
/// trying sooner would only be refused again. Timeouts are retried once at most.
pub fn retrying<P: LlmProvider>(provider: P, max_attempts: u32, base_backoff: Duration) -> Retrying<P> {
    Retrying {
        inner: provider,
        max_attempts: max_attempts.max(1),
        base_backoff,
        max_delay: Retrying::<P>::DEFAULT_MAX_DELAY,
    }
}

impl<P> Retrying<P> {
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(4);

    /// Caps each wait (and the `retry-after` hints worth waiting for).
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// How long to wait after failed attempt number `attempt` (1-based), or `None` to give up.
    fn delay(&self, attempt: u32, error: &LlmError) -> Option<Duration> {
        let out_of_attempts = attempt >= self.max_attempts;
        let timeout_retried = error.class == FaultClass::Timeout && attempt >= 2;
        if !error.is_retryable() || out_of_attempts || timeout_retried {
            return None;
        }
        if let Some(hint) = error.retry_after {
            return (hint <= self.max_delay).then_some(hint);
        }
        let exponential = self.base_backoff.saturating_mul(1 << (attempt - 1).min(16)).min(self.max_delay);
        // Equal jitter: half fixed, half random, so that synchronized clients spread out.
        let half = exponential / 2;
        let random = RandomState::new().hash_one(attempt) % 1024;
        Some(half + half.mul_f64(random as f64 / 1023.0))
    }
}

#[async_trait::async_trait]
impl<P: LlmProvider> LlmProvider for Retrying<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let mut attempt = 1;
        loop {
            let error = match self.inner.stream(request).await {
                Err(error) => error,
                Ok(mut stream) => match stream.next().await {
                    Some(Err(error)) => error,
                    Some(Ok(first)) => return Ok(futures::stream::iter([Ok(first)]).chain(stream).boxed()),
                    None => return Ok(stream),
                },
            };
            let Some(delay) = self.delay(attempt, &error) else { return Err(error) };
            tracing::debug!(provider = self.inner.name(), attempt, ?delay, error = %error, "retrying llm call");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LlmStream, StreamEvent};

    struct Never;

    #[async_trait::async_trait]
    impl LlmProvider for Never {
        fn name(&self) -> &str {
            "never"
        }

        async fn stream(&self, _: &ChatRequest) -> Result<LlmStream, LlmError> {
            Ok(futures::stream::iter([Ok(StreamEvent::Text("x".into()))]).boxed())
        }
    }

    fn error(class: FaultClass, retry_after: Option<Duration>) -> LlmError {
        LlmError::new(class, "test", "boom").with_retry_after(retry_after)
    }

    #[test]
    fn backoff_grows_stays_capped_and_respects_hints() {
        let r = retrying(Never, 10, Duration::from_millis(100)).with_max_delay(Duration::from_secs(1));
        let first = r.delay(1, &error(FaultClass::Provider, None)).expect("retry");
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let late = r.delay(8, &error(FaultClass::Provider, None)).expect("retry");
        assert!(late <= Duration::from_secs(1));
        let hinted = r.delay(1, &error(FaultClass::RateLimited, Some(Duration::from_millis(300))));
        assert_eq!(hinted, Some(Duration::from_millis(300)));
        assert_eq!(r.delay(1, &error(FaultClass::RateLimited, Some(Duration::from_secs(30)))), None);
        assert_eq!(r.delay(1, &error(FaultClass::Caller, None)), None);
        assert!(r.delay(1, &error(FaultClass::Timeout, None)).is_some());
        assert_eq!(r.delay(2, &error(FaultClass::Timeout, None)), None);
        assert_eq!(r.delay(10, &error(FaultClass::Provider, None)), None);
    }
}
