//! Server-sent events from a reqwest response, as [`Frame`]s of their data (the WHATWG
//! grammar: `data` lines joined by `\n`, one space after the colon dropped, an event dispatched
//! by a blank line, comments and other fields skipped, an unfinished last event dropped).
//! Comments (keep-alives) never surface.

use crate::decode::Frames;
use crate::lines::{self, Framer};

pub(crate) fn frames(provider: &'static str, response: reqwest::Response) -> Frames {
    lines::frames(provider, lines::body(provider, response), Events::default())
}

#[derive(Default)]
struct Events {
    data: String,
    /// The event being read has a `data` field (which may be empty).
    has_data: bool,
}

impl Framer for Events {
    fn line(&mut self, line: &[u8]) -> Result<Option<String>, String> {
        if line.is_empty() {
            if !std::mem::take(&mut self.has_data) {
                return Ok(None);
            }
            let mut data = std::mem::take(&mut self.data);
            data.pop();
            return Ok(Some(data));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(at) => {
                let value = &line[at + 1..];
                (&line[..at], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            let value = std::str::from_utf8(value).map_err(|e| format!("an event's data is not UTF-8: {e}"))?;
            self.data.push_str(value);
            self.data.push('\n');
            self.has_data = true;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::LlmError;

    async fn parse(chunks: &[&'static [u8]]) -> Vec<String> {
        let chunks: Vec<Result<bytes::Bytes, LlmError>> =
            chunks.iter().map(|c| Ok(bytes::Bytes::from_static(c))).collect();
        let body = futures::stream::iter(chunks);
        lines::frames("test", body, Events::default())
            .map(|f| f.map(|f| f.data).unwrap_or_else(|e| format!("error: {}", e.message)))
            .collect()
            .await
    }

    #[tokio::test]
    async fn events_follow_the_grammar_across_any_chunking() {
        let stream: &[u8] = "\u{FEFF}: keep-alive\n\nevent: delta\ndata: {\"a\":1}\n\n\
            data:first\r\ndata:  second\r\nid: 7\r\nretry: 10\r\n\r\n\
            data\n\ndata: é\rdata: ü\r\rdata: cut"
            .as_bytes();
        let expected = ["{\"a\":1}", "first\n second", "", "é\nü"];
        assert_eq!(parse(&[stream]).await, expected, "in one chunk");
        for at in 1..stream.len() {
            let (x, y) = stream.split_at(at);
            let (x, y): (&'static [u8], &'static [u8]) = (x, y);
            assert_eq!(parse(&[x, y]).await, expected, "split at byte {at} (inside `é` too)");
        }
    }

    #[tokio::test]
    async fn data_that_is_not_utf8_fails_the_stream() {
        let frames = parse(&[b"data: ok\n\n", b"data: \xFF\n\n", b"data: after\n\n"]).await;
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(frames[0], "ok");
        assert!(frames[1].starts_with("error: malformed stream"), "{frames:?}");
    }
}
