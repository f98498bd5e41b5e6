//! The lines of a streamed response body, as SSE and NDJSON both need them: ended by `\n`,
//! `\r\n` or a lone `\r`, split across chunks anywhere. Lines are read in place and the bytes
//! already read are dropped only when the next chunk comes, when at most one unfinished line is
//! left to move: each byte is copied once, however many lines a chunk holds (a model that
//! answers faster than it is read sends a whole reply in one chunk).

use futures::{Stream, StreamExt, stream::BoxStream};

use crate::{
    LlmError,
    decode::{Frame, Frames},
    transport,
};

/// A line longer than this is not a model's chunk.
const MAX_LINE: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct LineBuffer {
    buf: Vec<u8>,
    /// Where the first line not yet read starts.
    start: usize,
    /// Bytes from `start` already searched for a line end.
    scanned: usize,
}

impl LineBuffer {
    fn extend(&mut self, chunk: &[u8]) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(chunk);
    }

    /// The bytes of an unfinished line.
    fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole line, without its end. Once the body has `ended`, a last line without an
    /// end counts too (and a `\r` at the very end is a line end rather than half of `\r\n`).
    fn line(&mut self, ended: bool) -> Option<&[u8]> {
        let from = self.start;
        let rest = &self.buf[from + self.scanned..];
        let found = memchr::memchr2(b'\n', b'\r', rest).map(|at| from + self.scanned + at);
        let (end, next) = match found {
            Some(at) if self.buf[at] == b'\n' => (at, at + 1),
            Some(at) if at + 1 < self.buf.len() => (at, if self.buf[at + 1] == b'\n' { at + 2 } else { at + 1 }),
            // A `\r` last in the buffer: the next chunk may begin with its `\n`.
            Some(at) if !ended => {
                self.scanned = at - from;
                return None;
            }
            Some(at) => (at, at + 1),
            None if ended && self.pending() > 0 => (self.buf.len(), self.buf.len()),
            None => {
                self.scanned = self.pending();
                return None;
            }
        };
        self.start = next;
        self.scanned = 0;
        Some(&self.buf[from..end])
    }
}

/// A grammar over lines: each line may complete a frame.
pub(crate) trait Framer: Send + 'static {
    /// Takes one line; returns a frame when the line completes one.
    fn line(&mut self, line: &[u8]) -> Result<Option<String>, String>;
}

struct Reader<F> {
    provider: &'static str,
    body: BoxStream<'static, Result<bytes::Bytes, LlmError>>,
    lines: LineBuffer,
    framer: F,
    ended: bool,
    /// A line was read already (a byte-order mark may open only the first).
    begun: bool,
}

impl<F> Reader<F> {
    /// Ends the stream after an error.
    fn stop(&mut self) {
        self.ended = true;
        self.lines = LineBuffer::default();
    }
}

/// Frames of `body` as `framer` makes them from its lines.
pub(crate) fn frames<S, F>(provider: &'static str, body: S, framer: F) -> Frames
where
    S: Stream<Item = Result<bytes::Bytes, LlmError>> + Send + 'static,
    F: Framer,
{
    let reader =
        Reader { provider, body: body.boxed(), lines: LineBuffer::default(), framer, ended: false, begun: false };
    futures::stream::unfold(reader, |mut r| async move {
        loop {
            while let Some(mut line) = r.lines.line(r.ended) {
                if !r.begun {
                    r.begun = true;
                    line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
                }
                match r.framer.line(line) {
                    Ok(None) => {}
                    Ok(Some(data)) => return Some((Ok(Frame { data }), r)),
                    Err(e) => {
                        r.stop();
                        return Some((Err(transport::malformed(r.provider, e)), r));
                    }
                }
            }
            if r.ended {
                return None;
            }
            if r.lines.pending() > MAX_LINE {
                r.stop();
                let e = transport::malformed(r.provider, format!("a line longer than {MAX_LINE} bytes"));
                return Some((Err(e), r));
            }
            match r.body.next().await {
                Some(Ok(chunk)) => r.lines.extend(&chunk),
                Some(Err(e)) => {
                    r.stop();
                    return Some((Err(e), r));
                }
                None => r.ended = true,
            }
        }
    })
    .boxed()
}

/// The body of a reqwest response, its errors mapped for `provider`.
pub(crate) fn body(
    provider: &'static str,
    response: reqwest::Response,
) -> impl Stream<Item = Result<bytes::Bytes, LlmError>> + Send + 'static {
    response.bytes_stream().map(move |chunk| chunk.map_err(|e| transport::from_reqwest(provider, &e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], ended: bool) -> Vec<String> {
        let mut lines = LineBuffer::default();
        let mut out = Vec::new();
        for chunk in chunks {
            lines.extend(chunk);
            while let Some(line) = lines.line(false) {
                out.push(String::from_utf8_lossy(line).into_owned());
            }
        }
        while let Some(line) = lines.line(ended) {
            out.push(String::from_utf8_lossy(line).into_owned());
        }
        out
    }

    #[test]
    fn every_line_end_counts_once_wherever_the_chunks_split() {
        let whole: &[u8] = b"a\nb\r\nc\rd\r\n\r\ne";
        let expected = ["a", "b", "c", "d", "", "e"];
        assert_eq!(split(&[whole], true), expected);
        for at in 0..=whole.len() {
            let (x, y) = whole.split_at(at);
            assert_eq!(split(&[x, y], true), expected, "split at {at}");
        }
        assert_eq!(split(&[b"a\r", b"\nb"], false), ["a"], "a \\r\\n across chunks is one end; `b` waits");
        assert_eq!(split(&[b"x\r"], false), Vec::<String>::new(), "a last \\r may be half of \\r\\n");
        assert_eq!(split(&[b"x\r"], true), ["x"]);
    }

    #[test]
    fn read_lines_are_dropped_when_the_next_chunk_comes() {
        let mut lines = LineBuffer::default();
        lines.extend(b"one\ntwo\nthr");
        assert_eq!(lines.line(false), Some(&b"one"[..]));
        assert_eq!(lines.line(false), Some(&b"two"[..]));
        assert_eq!(lines.line(false), None);
        lines.extend(b"ee\n");
        assert_eq!(lines.buf, b"three\n", "only the unfinished line was kept");
        assert_eq!(lines.line(false), Some(&b"three"[..]));
    }
}
