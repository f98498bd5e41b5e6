//! Behaviours particular to one vendor (Mistral's ids and `tool_choice`, Anthropic's merged
//! tool results, OpenAI's billing 429) and a few that span them all.

use super::*;

#[tokio::test]
async fn mistral_gets_nine_character_ids_any_and_no_stream_options() {
    let s = setup(Wire::Mistral).await;
    let foreign = "call_Y6qJ7ofLgOrBnMD5WbVAeiRV";
    let call = ToolCall { id: foreign.into(), name: "get_weather".into(), arguments: json!({"city": "Paris"}) };
    let mut chat = request(vec![
        Message::User { text: "Weather?".into() },
        Message::Assistant { text: String::new(), tool_calls: vec![call] },
        Message::Tool { call_id: foreign.into(), name: "get_weather".into(), content: "sunny".into(), is_error: false },
    ]);
    chat.tool_choice = ToolChoice::Required;
    // The fake answers 400 to any id Mistral would refuse, so this passing is the proof.
    assert_eq!(texts(&events(&*s.llm, chat).await), ["ok"]);
    let body = last_request(&s.fake).body;
    let id = body["messages"][2]["tool_calls"][0]["id"].as_str().expect("an id");
    assert!(id.len() == 9 && id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    assert_eq!(body["messages"][3]["tool_call_id"], id);
    assert_eq!(body["messages"][3]["name"], "get_weather");
    assert_eq!(body["tool_choice"], "any");
    assert!(body.get("stream_options").is_none());
    assert_eq!(s.llm.name(), "mistral");
}

#[tokio::test]
async fn openai_asks_for_usage_and_says_required() {
    let s = setup(Wire::OpenAi).await;
    let mut chat = hello();
    chat.tool_choice = ToolChoice::Required;
    let _ = events(&*s.llm, chat).await;
    let body = last_request(&s.fake).body;
    assert_eq!(body["tool_choice"], "required");
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn anthropic_sends_parallel_tool_results_in_one_user_turn() {
    let s = setup(Wire::Anthropic).await;
    let calls: Vec<ToolCall> = ["toolu_a", "toolu_b"]
        .iter()
        .map(|id| ToolCall { id: (*id).into(), name: "get_weather".into(), arguments: json!({"city": id}) })
        .collect();
    let chat = request(vec![
        Message::User { text: "Two cities".into() },
        Message::Assistant { text: "Checking both.".into(), tool_calls: calls },
        Message::Tool {
            call_id: "toolu_a".into(),
            name: "get_weather".into(),
            content: "rain".into(),
            is_error: false,
        },
        Message::Tool {
            call_id: "toolu_b".into(),
            name: "get_weather".into(),
            content: "no such city".into(),
            is_error: true,
        },
    ]);
    let _ = events(&*s.llm, chat).await;
    let messages = last_request(&s.fake).body["messages"].clone();
    assert_eq!(messages.as_array().map(Vec::len), Some(3));
    assert_eq!(messages[1]["content"][0], json!({"type": "text", "text": "Checking both."}));
    assert_eq!(messages[1]["content"][2]["id"], "toolu_b");
    assert_eq!(messages[2]["role"], "user");
    assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_a");
    assert_eq!(
        messages[2]["content"][1],
        json!({"type": "tool_result", "tool_use_id": "toolu_b", "content": "no such city", "is_error": true})
    );
}

#[tokio::test]
async fn parallel_tool_calls_arrive_whole_and_in_order_on_every_wire() {
    for wire in [Wire::Anthropic, Wire::OpenAi, Wire::Mistral, Wire::Ollama] {
        let s = setup(wire).await;
        s.fake.push(Reply::tool_call("get_weather", json!({"city": "Paris"})).then_tool_call("get_time", json!({})));
        let events = events(&*s.llm, hello()).await;
        let calls: Vec<(&str, &Value)> = tool_calls(&events).iter().map(|c| (c.name.as_str(), &c.arguments)).collect();
        assert_eq!(calls, [("get_weather", &json!({"city": "Paris"})), ("get_time", &json!({}))], "{wire:?}");
        let ids: Vec<&str> = tool_calls(&events).iter().map(|c| c.id.as_str()).collect();
        assert_ne!(ids[0], ids[1], "{wire:?}");
    }
}

#[tokio::test]
async fn an_openai_quota_429_is_the_callers_fault() {
    let s = setup(Wire::OpenAi).await;
    s.fake.push(Reply::error(429, ErrorKind::QuotaExceeded));
    let (_, error) = failure(&*s.llm, hello()).await;
    assert_eq!((error.class, error.status), (FaultClass::Caller, Some(429)));
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_provider_fault() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let config = ProviderConfig::new(ProviderKind::Ollama, "m").with_base_url(format!("http://127.0.0.1:{port}"));
    let llm = provider(config, reqwest::Client::new());
    let (_, error) = failure(&*llm, hello()).await;
    assert_eq!(error.class, FaultClass::Provider);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn each_provider_reports_its_name() {
    for (wire, name) in [(Wire::Anthropic, "anthropic"), (Wire::OpenAi, "openai"), (Wire::Ollama, "ollama")] {
        assert_eq!(setup(wire).await.llm.name(), name);
    }
}
