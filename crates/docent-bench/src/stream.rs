//! Streaming: N concurrent SSE conversations (the fake streams 100 tokens 20 ms apart, or
//! `--token-gap-ms`), each virtual user starting its next turn when a stream ends. Docent's own
//! share is separated from the fake's and the client's by a control cohort that streams from the
//! fake directly under the same load: time to first token and inter-token gaps through Docent
//! minus the same figures measured direct is what Docent adds. Tokens count by when they arrive
//! (any stream's token in the measured window); a time to first token counts for a stream begun
//! in the window, and a window in which none of those got a token is an error, not a zero.
//! Before that, in a window of its own, the fake streams to every user directly: the ceiling,
//! what this machine delivers with no server between, which bounds any server's figures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use serde_json::json;

use crate::Opts;
use crate::client::{Conn, Req};
use crate::report::{Section, mb_in_mib, num};
use crate::setup::Stack;
use crate::stack::{Bins, FakeScript};
use crate::stats::{CpuUse, CpuWindow, Samples};

const TOKENS: usize = 100;
/// The fake's default gap between tokens: 50 tokens a second, a fast model's pace.
pub const GAP_MS: u64 = 20;

/// Raises this process's soft file-descriptor limit to the hard one (the children inherit it).
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum });
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[derive(Default)]
struct Tally {
    ttft: Samples,
    gaps: Samples,
    streams: u64,
    tokens: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.ttft.extend(o.ttft);
        self.gaps.extend(o.gaps);
        self.streams += o.streams;
        self.tokens += o.tokens;
        self.errors += o.errors;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }
}

/// What one kind of stream looks like: request, token marker, end marker.
struct Kind {
    addr: SocketAddr,
    /// How long one stream lasts when nothing delays it.
    length: Duration,
    req: Arc<dyn Fn(usize, u64) -> Req + Send + Sync>,
    token: &'static [u8],
    done: &'static [u8],
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The measured window: tokens arriving in it count (gaps, delivered), whenever their stream
/// began, so a saturated machine's slow streams are measured rather than missed; a stream's
/// time to first token and its completion count when it began in the window.
#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
}

impl Window {
    fn holds(self, at: Instant) -> bool {
        (self.from..=self.to).contains(&at)
    }
}

async fn one_stream(conn: &mut Conn, kind: &Kind, req: &Req, window: Window, tally: &mut Tally) -> anyhow::Result<()> {
    let start = Instant::now();
    let began_in_window = window.holds(start);
    let response = conn.send(req).await?;
    if !response.status().is_success() {
        anyhow::bail!("status {}", response.status());
    }
    let mut body = response.into_body();
    let (mut last, mut tokens, mut seen) = (None::<Instant>, 0usize, Vec::new());
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        let now = Instant::now();
        let n = count(&data, kind.token);
        if n > 0 && window.holds(now) {
            match last {
                None if began_in_window => tally.ttft.push(now - start),
                None => {}
                Some(prev) => tally.gaps.push(now - prev),
            }
            (1..n).for_each(|_| tally.gaps.push_micros(0));
            tally.tokens += n as u64;
        }
        if n > 0 {
            last = Some(now);
        }
        tokens += n;
        seen.extend_from_slice(&data[data.len().saturating_sub(4096)..]);
        if seen.len() > 8192 {
            seen.drain(..seen.len() - 4096);
        }
    }
    if tokens != TOKENS || count(&seen, kind.done) == 0 {
        anyhow::bail!("{tokens} tokens, end: {}", String::from_utf8_lossy(&seen[seen.len().saturating_sub(200)..]));
    }
    if began_in_window {
        tally.streams += 1;
    }
    Ok(())
}

async fn user(kind: Arc<Kind>, id: usize, delay: Duration, window: Window) -> Tally {
    let mut tally = Tally::default();
    tokio::time::sleep(delay).await;
    let mut conn: Option<Conn> = None;
    let mut n = 0;
    while Instant::now() + kind.length < window.to {
        let req = (kind.req)(id, n);
        n += 1;
        let result = match conn.as_mut() {
            Some(c) => one_stream(c, &kind, &req, window, &mut tally).await,
            None => match Conn::open(kind.addr).await {
                Ok(c) => one_stream(conn.insert(c), &kind, &req, window, &mut tally).await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = result {
            conn = None;
            tally.errors += 1;
            tally.first_error.get_or_insert(format!("{e:#}"));
        }
    }
    tally
}

pub async fn run(bins: &Bins, opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let limit = raise_fd_limit();
    let mut sections = Vec::new();
    for &wanted in &opts.streams {
        let mut section = match opts.token_gap_ms {
            GAP_MS => Section::new(format!("stream {wanted} SSE")),
            gap => Section::new(format!("stream {wanted} SSE, a token every {gap} ms")),
        };
        // Docent holds a socket per visitor; its model calls share HTTP/2 connections, as 10,000
        // streams with a socket each way would pass this machine's file-descriptor limit.
        let n = wanted.min(limit.saturating_sub(256) as usize);
        if n < wanted {
            section.note(format!(
                "{wanted} streams asked, {n} run: the file-descriptor hard limit here is {limit} and cannot be raised \
                 without privileges this machine does not grant"
            ));
        }
        section.note(
            "Docent calls the fake model over HTTP/2 (`outbound.llm_http2_only`, h2c): every stream's model call \
             shares one connection, so the server holds one socket per stream, not two",
        );
        let script = FakeScript { tokens: Some((TOKENS, opts.token_gap_ms)), llm_http2: true, ..FakeScript::default() };
        let stack = Stack::start(bins, opts, &script, 1_000).await?;
        drive(&stack, opts, n, &mut section).await;
        stack.stop().await?;
        sections.push(section);
    }
    Ok(sections)
}

async fn drive(stack: &Stack, opts: &Opts, n: usize, section: &mut Section) {
    let tenant = stack.tenant.clone();
    let length = Duration::from_millis(TOKENS as u64 * opts.token_gap_ms);
    let through = Arc::new(Kind {
        addr: stack.server.addr,
        length,
        req: Arc::new(move |user, turn| {
            let session = format!("s-u{user}-c{}", turn / crate::chat::TURNS_PER_CONVERSATION);
            let body = json!({"message": "Tell me about rentals", "sessionId": session, "segment": tenant.segment, "stream": true});
            Req::post_json(format!("/chat/{}", tenant.slug), &body)
        }),
        token: b"{\"text\":",
        done: b"\"done\":true",
    });
    let direct = Arc::new(Kind {
        addr: stack.fake.addr,
        length,
        req: Arc::new(|_, _| {
            let body = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "Tell me about rentals"}]});
            Req::post_json("/v1/chat/completions", &body).bearer("x")
        }),
        token: b"\"content\":\"t",
        done: b"[DONE]",
    });
    let control = (n / 100).clamp(5, 100);
    // The ceiling first: the fake alone streaming to all n users, each on a connection of its
    // own as Docent's visitors are, nothing between; what this machine delivers then bounds
    // what any server relaying the same tokens could.
    let ceiling = cohorts(stack, opts, &[(&direct, n)]).await;
    let mut ceiling_tally = ceiling.tallies.into_iter().next().unwrap_or_default();
    let Run { tallies, used, seconds, ramp } = cohorts(stack, opts, &[(&through, n), (&direct, control)]).await;
    let mut tallies = tallies.into_iter();
    let (mut docent, mut fake) = (tallies.next().unwrap_or_default(), tallies.next().unwrap_or_default());
    section.error(ceiling_tally.errors, ceiling_tally.first_error.take());
    section.error(docent.errors + fake.errors, docent.first_error.take().or(fake.first_error.take()));
    // No figure from nothing: an empty sample set would read as "no delay".
    if docent.ttft.len() == 0 || docent.gaps.len() == 0 {
        let what = "no stream through Docent begun in the measured window got its first token within it";
        section.error(1, Some(format!("{what} (its streams waited longer than the window)")));
    }
    let gap = opts.token_gap_ms as f64;
    // Without control samples (a window too short for them), the nominal gap is the baseline.
    let baseline = if fake.gaps.len() > 0 { fake.gaps.pct_ms(99.0) } else { gap };
    let added_gap = (docent.gaps.pct_ms(99.0) - baseline).max(0.0);
    section.fig("concurrent streams", n as f64, "streams");
    section.fig("tokens asked", n as f64 * 1_000.0 / gap, "tokens/s");
    section.fig(
        "ceiling: tokens delivered, fake direct to every stream, no Docent",
        ceiling_tally.tokens as f64 / ceiling.seconds,
        "tokens/s",
    );
    section.fig(
        "ceiling: inter-token gap p99, fake direct to every stream, no Docent",
        ceiling_tally.gaps.pct_ms(99.0),
        "ms",
    );
    section.fig("time to first token p50, through Docent", docent.ttft.pct_ms(50.0), "ms");
    section.fig("time to first token p50, fake direct", fake.ttft.pct_ms(50.0), "ms");
    section.fig("TTFB overhead p50 (Docent − direct)", docent.ttft.pct_ms(50.0) - fake.ttft.pct_ms(50.0), "ms");
    section.fig("TTFB overhead p99 (Docent − direct)", docent.ttft.pct_ms(99.0) - fake.ttft.pct_ms(99.0), "ms");
    section.fig("inter-token gap p99, through Docent", docent.gaps.pct_ms(99.0), "ms");
    section.fig("inter-token gap p99, fake direct", fake.gaps.pct_ms(99.0), "ms");
    section.at_most("inter-token delay added by Docent p99", added_gap, "ms", 10.0);
    section.at_most("server RSS peak (VmHWM)", stack.server.peak_rss_mib(), "MiB", mb_in_mib(400.0));
    section.fig("streams completed in the window", docent.streams as f64, "streams");
    section.fig("tokens delivered in the window", docent.tokens as f64 / seconds, "tokens/s");
    section.note(format!(
        "{n} visitors through Docent plus {control} control streams direct from the fake, started over {}s; \
         the fake sends a token every {gap} ms. CPU over the {}s window: server {}s, fake {}s, load generator {}s, \
         rest of the machine {}s (of {} cores × {}s available)",
        num(ramp.as_secs_f64()),
        num(seconds),
        num(used.watched.first().copied().unwrap_or(0.0)),
        num(used.watched.get(1).copied().unwrap_or(0.0)),
        num(used.own),
        num(used.others),
        crate::report::cores(),
        num(seconds),
    ));
    let used = &ceiling.used;
    section.note(format!(
        "Ceiling, measured first in a window of its own: the fake streams to all {n} users directly, one HTTP/1 \
         connection each, nothing between. CPU over its {}s window: fake {}s, load generator {}s, rest of the \
         machine {}s",
        num(ceiling.seconds),
        num(used.watched.get(1).copied().unwrap_or(0.0)),
        num(used.own),
        num(used.others),
    ));
}

/// What a run of cohorts measured: a tally per cohort in their order, the CPU used over the
/// measured window and its length, and the ramp the users were started over.
struct Run {
    tallies: Vec<Tally>,
    used: CpuUse,
    seconds: f64,
    ramp: Duration,
}

/// Runs each cohort's users (a kind of stream and how many) together, started over a ramp,
/// and tallies them over one measured window (see `Window`).
async fn cohorts(stack: &Stack, opts: &Opts, cohorts: &[(&Arc<Kind>, usize)]) -> Run {
    let n = cohorts.iter().map(|c| c.1).sum::<usize>();
    let length = cohorts.iter().map(|c| c.0.length).max().unwrap_or_default();
    let ramp = Duration::from_secs_f64((n as f64 / 2_000.0).max(0.5));
    let window = Instant::now() + ramp + length + opts.warmup();
    // Long enough that streams begun in it also end in it: a user's first stream to begin in the
    // window may begin up to a stream (and the ramp's stagger) after it opens, and must end in it.
    let end = window + opts.measure().max(Duration::from_secs(3)).max(length * 2 + ramp);
    let stagger = |i: usize, of: usize| ramp.mul_f64(i as f64 / of as f64);
    let measured = Window { from: window, to: end };
    let handles: Vec<Vec<_>> = cohorts
        .iter()
        .map(|&(kind, users)| {
            (0..users).map(|i| tokio::spawn(user(kind.clone(), i, stagger(i, users), measured))).collect()
        })
        .collect();
    tokio::time::sleep_until(window.into()).await;
    let cpu = CpuWindow::start(&[stack.server.pid, stack.fake.pid]);
    tokio::time::sleep_until(end.into()).await;
    let used = cpu.stop();
    let mut tallies = Vec::with_capacity(handles.len());
    for cohort in handles {
        let mut tally = Tally::default();
        for h in cohort {
            tally.merge(h.await.unwrap_or_else(|e| Tally {
                errors: 1,
                first_error: Some(e.to_string()),
                ..Tally::default()
            }));
        }
        tallies.push(tally);
    }
    Run { tallies, used, seconds: (end - window).as_secs_f64(), ramp }
}
