//! The wire clients against the fake vendor server (docent-fakellm), over a real socket: text
//! and tool call streaming, tool results sent back in each vendor's shape, every fault mapped to
//! its class, and the retry wrapper. Each behaviour runs once per wire format.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use docent_fakellm::{ErrorKind, FakeLlm, OpenAiFlavor, RecordedRequest, Reply};
use docent_llm::{
    ChatRequest, FaultClass, LlmError, LlmProvider, LlmStream, Message, ProviderConfig, ProviderKind, StopReason,
    StreamEvent, ToolCall, ToolChoice, ToolSpec, provider, retrying,
};
use futures::StreamExt;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    Anthropic,
    OpenAi,
    Mistral,
    Ollama,
}

struct Setup {
    fake: FakeLlm,
    llm: Arc<dyn LlmProvider>,
}

async fn setup(wire: Wire) -> Setup {
    setup_with_timeout(wire, Duration::from_secs(10)).await
}

async fn setup_with_timeout(wire: Wire, timeout: Duration) -> Setup {
    let fake = FakeLlm::start().await.expect("fake starts");
    let (kind, base_url) = match wire {
        Wire::Anthropic => (ProviderKind::Anthropic, fake.base_url()),
        Wire::OpenAi => (ProviderKind::OpenAi, fake.openai_base_url()),
        Wire::Mistral => (ProviderKind::Mistral, fake.openai_base_url()),
        Wire::Ollama => (ProviderKind::Ollama, fake.base_url()),
    };
    if wire == Wire::Mistral {
        fake.set_openai_flavor(OpenAiFlavor::Mistral);
    }
    let config =
        ProviderConfig::new(kind, "test-model").with_base_url(base_url).with_api_key("sk-test").with_timeout(timeout);
    Setup { llm: Arc::from(provider(config, reqwest::Client::new())), fake }
}

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: "Weather for a city".into(),
        input_schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: String::new(),
        system: "You are terse.".into(),
        messages,
        tools: vec![weather_tool()].into(),
        max_tokens: 256,
        temperature: Some(0.2),
        knowledge: Default::default(),
        tool_choice: ToolChoice::Auto,
    }
}

fn hello() -> ChatRequest {
    request(vec![Message::User { text: "What is the weather in Paris?".into() }])
}

async fn collect(stream: LlmStream) -> Vec<Result<StreamEvent, LlmError>> {
    stream.collect().await
}

async fn events(llm: &dyn LlmProvider, request: ChatRequest) -> Vec<StreamEvent> {
    let stream = llm.stream(&request).await.expect("stream starts");
    collect(stream).await.into_iter().map(|e| e.expect("no error in stream")).collect()
}

/// The error a call ends with, whether `stream()` returns it or the stream yields it.
async fn failure(llm: &dyn LlmProvider, request: ChatRequest) -> (Vec<StreamEvent>, LlmError) {
    let stream = match llm.stream(&request).await {
        Err(e) => return (Vec::new(), e),
        Ok(stream) => stream,
    };
    let mut seen = Vec::new();
    for item in collect(stream).await {
        match item {
            Ok(event) => seen.push(event),
            Err(e) => return (seen, e),
        }
    }
    panic!("the stream ended without an error: {seen:?}");
}

fn texts(events: &[StreamEvent]) -> Vec<&str> {
    events.iter().filter_map(|e| if let StreamEvent::Text(t) = e { Some(t.as_str()) } else { None }).collect()
}

fn tool_calls(events: &[StreamEvent]) -> Vec<&ToolCall> {
    events.iter().filter_map(|e| if let StreamEvent::ToolCall(c) = e { Some(c) } else { None }).collect()
}

fn last_request(fake: &FakeLlm) -> RecordedRequest {
    fake.last_request().expect("the fake received a request")
}

async fn text_arrives_in_several_chunks_then_done(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::chunks(["Hel", "lo, ", "world"]).with_usage(12, 3));
    let events = events(&*s.llm, hello()).await;
    assert_eq!(texts(&events), ["Hel", "lo, ", "world"]);
    let usage = docent_llm::Usage { input_tokens: 12, output_tokens: 3 };
    let done = StreamEvent::Done { stop: StopReason::EndTurn, usage, model: Some("test-model".into()) };
    assert_eq!(events.last(), Some(&done));
}

async fn a_tool_call_split_across_chunks_arrives_whole(wire: Wire) {
    let s = setup(wire).await;
    let args = json!({"city": "Paris", "units": "c", "note": "ünïcödé"});
    s.fake.push(Reply::text("Let me check.").then_tool_call("get_weather", args.clone()).with_arg_fragments(6));
    let events = events(&*s.llm, hello()).await;
    assert_eq!(texts(&events), ["Let me check."]);
    let calls = tool_calls(&events);
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].name.as_str(), &calls[0].arguments), ("get_weather", &args));
    assert!(!calls[0].id.is_empty());
    assert!(matches!(events.last(), Some(StreamEvent::Done { stop: StopReason::ToolUse, .. })));
}

async fn the_request_carries_the_system_prompt_tools_and_key(wire: Wire) {
    let s = setup(wire).await;
    let _ = events(&*s.llm, hello()).await;
    let sent = last_request(&s.fake);
    let body = &sent.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    match wire {
        Wire::Anthropic => {
            assert_eq!(sent.path, "/v1/messages");
            assert_eq!(sent.header("x-api-key"), Some("sk-test"));
            assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
            assert_eq!(body["system"], "You are terse.");
            assert_eq!(body["max_tokens"], 256);
            assert_eq!(body["messages"][0], json!({"role": "user", "content": "What is the weather in Paris?"}));
            assert_eq!(body["tools"][0]["input_schema"]["required"], json!(["city"]));
            assert_eq!(body["tool_choice"], json!({"type": "auto"}));
        }
        Wire::OpenAi | Wire::Mistral => {
            assert_eq!(sent.path, "/v1/chat/completions");
            assert_eq!(sent.header("authorization"), Some("Bearer sk-test"));
            assert_eq!(body["messages"][0], json!({"role": "system", "content": "You are terse."}));
            assert_eq!(body["tools"][0]["function"]["parameters"]["required"], json!(["city"]));
            assert_eq!(body["max_tokens"], 256);
            assert_eq!(body["temperature"], 0.2);
        }
        Wire::Ollama => {
            assert_eq!(sent.path, "/api/chat");
            assert_eq!(body["messages"][0], json!({"role": "system", "content": "You are terse."}));
            assert_eq!(body["tools"][0]["function"]["name"], "get_weather");
            assert_eq!(body["options"], json!({"num_predict": 256, "temperature": 0.2}));
        }
    }
}

/// Gets a tool call from the fake, then sends the conversation back with the tool's result.
async fn tool_round_trip(s: &Setup) -> (ToolCall, Value) {
    s.fake.push(Reply::tool_call("get_weather", json!({"city": "Paris"})));
    let first = events(&*s.llm, hello()).await;
    let call = tool_calls(&first).first().map(|c| (*c).clone()).expect("a tool call");
    let messages = vec![
        Message::User { text: "What is the weather in Paris?".into() },
        Message::Assistant { text: String::new(), tool_calls: vec![call.clone()] },
        Message::Tool {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content: "12C, rain".into(),
            is_error: false,
        },
    ];
    let second = events(&*s.llm, request(messages)).await;
    assert_eq!(texts(&second), ["ok"]);
    (call, last_request(&s.fake).body)
}

async fn the_tool_result_goes_back_in_the_vendors_shape(wire: Wire) {
    let s = setup(wire).await;
    let (call, body) = tool_round_trip(&s).await;
    let messages = body["messages"].as_array().expect("messages");
    match wire {
        Wire::Anthropic => {
            assert_eq!(messages.len(), 3);
            let tool_use =
                json!({"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris"}});
            assert_eq!(messages[1], json!({"role": "assistant", "content": [tool_use]}));
            let result = json!({"type": "tool_result", "tool_use_id": call.id, "content": "12C, rain"});
            assert_eq!(messages[2], json!({"role": "user", "content": [result]}));
        }
        Wire::OpenAi | Wire::Mistral => {
            assert_eq!(messages.len(), 4);
            let assistant = &messages[2];
            assert_eq!(assistant["role"], "assistant");
            assert_eq!(assistant["content"], Value::Null);
            let sent_call = &assistant["tool_calls"][0];
            assert_eq!(sent_call["type"], "function");
            assert_eq!(sent_call["function"]["name"], "get_weather");
            let arguments: Value =
                serde_json::from_str(sent_call["function"]["arguments"].as_str().expect("arguments are a string"))
                    .expect("arguments are json");
            assert_eq!(arguments, json!({"city": "Paris"}));
            assert_eq!(messages[3]["role"], "tool");
            assert_eq!(messages[3]["content"], "12C, rain");
            assert_eq!(messages[3]["tool_call_id"], sent_call["id"]);
            assert_eq!(sent_call["id"], call.id.as_str());
        }
        Wire::Ollama => {
            assert_eq!(messages.len(), 4);
            assert_eq!(messages[2]["tool_calls"][0]["function"]["arguments"], json!({"city": "Paris"}));
            assert_eq!(messages[2]["tool_calls"][0]["function"]["name"], "get_weather");
            let result =
                json!({"role": "tool", "tool_name": "get_weather", "tool_call_id": call.id, "content": "12C, rain"});
            assert_eq!(messages[3], result);
        }
    }
}

async fn a_429_is_rate_limited_with_its_retry_after(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::rate_limited(Duration::from_secs(7)));
    let (_, error) = failure(&*s.llm, hello()).await;
    assert_eq!(
        (error.class, error.status, error.retry_after),
        (FaultClass::RateLimited, Some(429), Some(Duration::from_secs(7)))
    );
}

async fn a_529_and_a_503_are_provider_faults(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::overloaded());
    s.fake.push(Reply::error(503, ErrorKind::Server));
    for status in [529, 503] {
        let (_, error) = failure(&*s.llm, hello()).await;
        assert_eq!((error.class, error.status), (FaultClass::Provider, Some(status)), "{error}");
        assert!(error.is_retryable());
    }
}

async fn a_401_is_the_callers_fault_with_the_vendors_reason(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::error(401, ErrorKind::Authentication));
    let (_, error) = failure(&*s.llm, hello()).await;
    assert_eq!((error.class, error.status), (FaultClass::Caller, Some(401)));
    assert!(error.message.contains("invalid x-api-key"), "{}", error.message);
    assert!(!error.is_retryable());
}

async fn a_cut_stream_is_a_provider_fault_after_the_text_so_far(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::chunks(["one ", "two ", "three"]).cut_after(2));
    let (seen, error) = failure(&*s.llm, hello()).await;
    assert_eq!(texts(&seen), ["one ", "two "]);
    assert_eq!(error.class, FaultClass::Provider, "{error}");
}

async fn malformed_data_is_a_provider_fault(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::chunks(["one ", "two"]).malformed_after(1));
    let (seen, error) = failure(&*s.llm, hello()).await;
    assert_eq!(texts(&seen), ["one "]);
    assert_eq!(error.class, FaultClass::Provider);
    assert!(error.message.contains("malformed"), "{}", error.message);
}

async fn an_error_inside_a_200_stream_is_classified(wire: Wire) {
    let s = setup(wire).await;
    s.fake.push(Reply::chunks(["one ", "two"]).error_after(1, ErrorKind::Overloaded));
    let (seen, error) = failure(&*s.llm, hello()).await;
    assert_eq!(texts(&seen), ["one "]);
    assert_eq!(error.class, FaultClass::Provider);
    assert!(error.message.contains("Overloaded"), "{}", error.message);
}

async fn a_slow_first_byte_is_a_timeout(wire: Wire) {
    let s = setup_with_timeout(wire, Duration::from_millis(150)).await;
    s.fake.push(Reply::text("late").with_ttfb(Duration::from_secs(2)));
    let (_, error) = failure(&*s.llm, hello()).await;
    assert_eq!(error.class, FaultClass::Timeout);
}

async fn a_stalled_stream_is_a_timeout(wire: Wire) {
    let s = setup_with_timeout(wire, Duration::from_millis(150)).await;
    s.fake.push(Reply::chunks(["a", "b"]).with_chunk_delay(Duration::from_secs(2)));
    let (seen, error) = failure(&*s.llm, hello()).await;
    assert_eq!(texts(&seen), ["a"]);
    assert_eq!(error.class, FaultClass::Timeout);
}

macro_rules! for_wire {
    ($module:ident, $wire:expr, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($wire).await;
                }
            )*
        }
    };
}

macro_rules! every_wire_behaviour {
    ($module:ident, $wire:expr) => {
        for_wire!(
            $module,
            $wire,
            [
                text_arrives_in_several_chunks_then_done,
                a_tool_call_split_across_chunks_arrives_whole,
                the_request_carries_the_system_prompt_tools_and_key,
                the_tool_result_goes_back_in_the_vendors_shape,
                a_429_is_rate_limited_with_its_retry_after,
                a_529_and_a_503_are_provider_faults,
                a_401_is_the_callers_fault_with_the_vendors_reason,
                a_cut_stream_is_a_provider_fault_after_the_text_so_far,
                malformed_data_is_a_provider_fault,
                an_error_inside_a_200_stream_is_classified,
                a_slow_first_byte_is_a_timeout,
                a_stalled_stream_is_a_timeout,
            ]
        );
    };
}

every_wire_behaviour!(anthropic, super::Wire::Anthropic);
every_wire_behaviour!(openai, super::Wire::OpenAi);
every_wire_behaviour!(ollama, super::Wire::Ollama);
every_wire_behaviour!(mistral, super::Wire::Mistral);

#[path = "providers/quirks.rs"]
mod quirks;
#[path = "providers/retry.rs"]
mod retry;
