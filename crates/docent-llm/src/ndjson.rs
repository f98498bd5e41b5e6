//! Newline-delimited JSON from a reqwest response (Ollama's stream), as [`Frame`]s: one per
//! non-empty line, including a last line that lacks its newline.

use futures::{Stream, StreamExt, stream::BoxStream};

use crate::{
    LlmError,
    decode::{Frame, Frames},
    transport,
};

/// A line longer than this is not an Ollama chunk.
const MAX_LINE: usize = 4 * 1024 * 1024;

pub(crate) fn frames(provider: &'static str, response: reqwest::Response) -> Frames {
    lines(provider, response.bytes_stream().map(move |chunk| chunk.map_err(|e| transport::from_reqwest(provider, &e))))
}

struct Lines<B> {
    provider: &'static str,
    body: BoxStream<'static, Result<B, LlmError>>,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already searched for a newline.
    scanned: usize,
    ended: bool,
}

impl<B> Lines<B> {
    fn take_line(&mut self, end: usize) -> Option<Result<Frame, LlmError>> {
        let raw: Vec<u8> = self.buffer.drain(..end).collect();
        self.scanned = 0;
        let text = match String::from_utf8(raw) {
            Ok(text) => text,
            Err(e) => return Some(Err(transport::malformed(self.provider, e))),
        };
        let line = text.trim();
        (!line.is_empty()).then(|| Ok(Frame { data: line.to_owned() }))
    }
}

pub(crate) fn lines<S, B>(provider: &'static str, body: S) -> Frames
where
    S: Stream<Item = Result<B, LlmError>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
{
    let state = Lines { provider, body: body.boxed(), buffer: Vec::new(), scanned: 0, ended: false };
    futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(pos) = s.buffer[s.scanned..].iter().position(|b| *b == b'\n') {
                let end = s.scanned + pos + 1;
                match s.take_line(end) {
                    Some(frame) => return Some((frame, s)),
                    None => continue,
                }
            }
            s.scanned = s.buffer.len();
            if s.ended {
                let end = s.buffer.len();
                if end == 0 {
                    return None;
                }
                match s.take_line(end) {
                    Some(frame) => return Some((frame, s)),
                    None => return None,
                }
            }
            if s.buffer.len() > MAX_LINE {
                s.ended = true;
                s.buffer.clear();
                let e = transport::malformed(s.provider, format!("a line longer than {MAX_LINE} bytes"));
                return Some((Err(e), s));
            }
            match s.body.next().await {
                Some(Ok(chunk)) => s.buffer.extend_from_slice(chunk.as_ref()),
                Some(Err(e)) => {
                    s.ended = true;
                    s.buffer.clear();
                    return Some((Err(e), s));
                }
                None => s.ended = true,
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_across_chunks_come_out_whole() {
        let chunks: Vec<Result<&'static [u8], LlmError>> =
            vec![Ok(b"{\"a\":"), Ok(b"1}\n\n{\"b\""), Ok(b":2}\r\n{\"c\":3}")];
        let frames: Vec<String> = lines("test", futures::stream::iter(chunks))
            .map(|f| f.map(|f| f.data).unwrap_or_else(|e| e.message))
            .collect()
            .await;
        assert_eq!(frames, [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]);
    }
}
