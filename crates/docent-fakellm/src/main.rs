//! `docent-fakellm`: the fake LLM server as a process, for manual runs and the benchmark. It
//! serves one default reply to every request on all three endpoints and records nothing.
//!
//! ```text
//! docent-fakellm --addr 127.0.0.1:7070                              # "ok", instantly
//! docent-fakellm --addr 127.0.0.1:7070 --tokens 100 --token-delay-ms 20
//! docent-fakellm --addr 127.0.0.1:7070 --text "Hello there" --ttfb-ms 300
//! ```

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use docent_fakellm::{FakeLlm, Reply};

const USAGE: &str =
    "usage: docent-fakellm [--addr HOST:PORT] [--text TEXT | --tokens N] [--token-delay-ms MS] [--ttfb-ms MS]";

struct Args {
    addr: SocketAddr,
    reply: Reply,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 7070));
    let (mut text, mut tokens, mut delay_ms, mut ttfb_ms) = (None, None, 0u64, 0u64);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--text" => text = Some(value()?),
            "--tokens" => tokens = Some(value()?.parse::<usize>().map_err(|e| format!("--tokens: {e}"))?),
            "--token-delay-ms" => delay_ms = value()?.parse().map_err(|e| format!("--token-delay-ms: {e}"))?,
            "--ttfb-ms" => ttfb_ms = value()?.parse().map_err(|e| format!("--ttfb-ms: {e}"))?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let reply = match (tokens, text) {
        (Some(n), _) => Reply::tokens(n, Duration::from_millis(delay_ms)),
        (None, text) => Reply::text(text.unwrap_or_else(|| "ok".to_owned())),
    };
    Ok(Args { addr, reply: reply.with_ttfb(Duration::from_millis(ttfb_ms)) })
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
    fake.set_default(args.reply);
    println!("docent-fakellm listening on {}", fake.base_url());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
