//! `docent-fakellm`: the fake LLM server as a process, for manual runs and the benchmark. It
//! serves one default reply to every request on all three endpoints and records nothing.
//!
//! ```text
//! docent-fakellm --addr 127.0.0.1:7070                              # "ok", instantly
//! docent-fakellm --addr 127.0.0.1:7070 --tokens 100 --token-delay-ms 20
//! docent-fakellm --addr 127.0.0.1:7070 --text "Hello there" --ttfb-ms 300
//! docent-fakellm --tool-call 'remember_fact:{"key":"color","value":"blue"}' --text "Noted."
//! ```
//!
//! With `--tool-call NAME:JSON` every request gets that tool call, except requests whose last
//! message is a tool result: they get the text (or tokens), so each turn runs one tool round.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use docent_fakellm::{FakeLlm, Reply};

const USAGE: &str = "usage: docent-fakellm [--addr HOST:PORT] [--text TEXT | --tokens N] [--token-delay-ms MS] [--ttfb-ms MS] \
     [--tool-call NAME:JSON]";

struct Args {
    addr: SocketAddr,
    reply: Reply,
    /// A tool call answered first, `reply` coming once the tool's result is sent back.
    tool_call: Option<Reply>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 7070));
    let (mut text, mut tokens, mut delay_ms, mut ttfb_ms) = (None, None, 0u64, 0u64);
    let mut tool_call = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--text" => text = Some(value()?),
            "--tokens" => tokens = Some(value()?.parse::<usize>().map_err(|e| format!("--tokens: {e}"))?),
            "--token-delay-ms" => delay_ms = value()?.parse().map_err(|e| format!("--token-delay-ms: {e}"))?,
            "--ttfb-ms" => ttfb_ms = value()?.parse().map_err(|e| format!("--ttfb-ms: {e}"))?,
            "--tool-call" => tool_call = Some(parse_tool_call(&value()?)?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let reply = match (tokens, text) {
        (Some(n), _) => Reply::tokens(n, Duration::from_millis(delay_ms)),
        (None, text) => Reply::text(text.unwrap_or_else(|| "ok".to_owned())),
    };
    let ttfb = Duration::from_millis(ttfb_ms);
    Ok(Args { addr, reply: reply.with_ttfb(ttfb), tool_call: tool_call.map(|call: Reply| call.with_ttfb(ttfb)) })
}

/// `NAME:JSON` → a tool call reply.
fn parse_tool_call(spec: &str) -> Result<Reply, String> {
    let (name, args) = spec.split_once(':').ok_or("--tool-call takes NAME:JSON")?;
    let args = serde_json::from_str(args).map_err(|e| format!("--tool-call arguments: {e}"))?;
    Ok(Reply::tool_call(name, args))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let fake = match FakeLlm::bind(args.addr).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    fake.set_recording(false);
    match args.tool_call {
        Some(call) => {
            fake.set_default(call);
            fake.set_after_tool_result(args.reply);
        }
        None => fake.set_default(args.reply),
    }
    println!("docent-fakellm listening on {}", fake.base_url());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
