//! The retry wrapper over a real wire client: early, retryable failures are retried with
//! backoff; caller faults and failures after the first event are not.

use super::*;

fn retried(s: &Setup, attempts: u32) -> impl LlmProvider {
    retrying(s.llm.clone(), attempts, Duration::from_millis(10))
}

#[tokio::test]
async fn a_529_then_success_succeeds() {
    let s = setup(Wire::Anthropic).await;
    s.fake.push(Reply::overloaded());
    s.fake.push(Reply::text("recovered"));
    let events = events(&retried(&s, 3), hello()).await;
    assert_eq!(texts(&events), ["recovered"]);
    assert_eq!(s.fake.requests().len(), 2);
}

#[tokio::test]
async fn an_overload_inside_the_stream_before_any_event_is_retried() {
    let s = setup(Wire::Anthropic).await;
    s.fake.push(Reply::text("never shown").error_after(0, ErrorKind::Overloaded));
    s.fake.push(Reply::text("recovered"));
    let events = events(&retried(&s, 3), hello()).await;
    assert_eq!(texts(&events), ["recovered"]);
}

#[tokio::test]
async fn a_401_is_not_retried() {
    let s = setup(Wire::OpenAi).await;
    s.fake.push(Reply::error(401, ErrorKind::Authentication));
    s.fake.push(Reply::text("should not be reached"));
    let (_, error) = failure(&retried(&s, 3), hello()).await;
    assert_eq!(error.class, FaultClass::Caller);
    assert_eq!(s.fake.requests().len(), 1);
}

#[tokio::test]
async fn a_failure_after_the_first_event_is_not_retried() {
    let s = setup(Wire::Ollama).await;
    s.fake.push(Reply::chunks(["partial ", "answer"]).cut_after(1));
    let (seen, error) = failure(&retried(&s, 3), hello()).await;
    assert_eq!(texts(&seen), ["partial "]);
    assert_eq!(error.class, FaultClass::Provider);
    assert_eq!(s.fake.requests().len(), 1);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let s = setup(Wire::Anthropic).await;
    for _ in 0..3 {
        s.fake.push(Reply::overloaded());
    }
    let (_, error) = failure(&retried(&s, 2), hello()).await;
    assert_eq!((error.class, error.status), (FaultClass::Provider, Some(529)));
    assert_eq!(s.fake.requests().len(), 2);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let s = setup(Wire::OpenAi).await;
    s.fake.push(Reply::rate_limited(Duration::from_secs(1)));
    let started = Instant::now();
    let events = events(&retried(&s, 2), hello()).await;
    assert_eq!(texts(&events), ["ok"]);
    assert!(started.elapsed() >= Duration::from_secs(1));
}
