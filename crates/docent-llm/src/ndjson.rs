//! Newline-delimited JSON from a reqwest response (Ollama's stream), as [`Frame`]s: one per
//! non-empty line, including a last line that lacks its newline.

use crate::decode::Frames;
use crate::lines::{self, Framer};

pub(crate) fn frames(provider: &'static str, response: reqwest::Response) -> Frames {
    lines::frames(provider, lines::body(provider, response), Objects)
}

/// Each non-empty line is a frame.
struct Objects;

impl Framer for Objects {
    fn line(&mut self, line: &[u8]) -> Result<Option<String>, String> {
        let text = std::str::from_utf8(line).map_err(|e| format!("a line is not UTF-8: {e}"))?.trim();
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::LlmError;

    #[tokio::test]
    async fn lines_split_across_chunks_come_out_whole() {
        let chunks: [&'static [u8]; 3] = [b"{\"a\":", b"1}\n\n{\"b\"", b":2}\r\n{\"c\":3}"];
        let body = futures::stream::iter(chunks.map(|c| Ok::<_, LlmError>(bytes::Bytes::from_static(c))));
        let frames: Vec<String> = lines::frames("test", body, Objects)
            .map(|f| f.map(|f| f.data).unwrap_or_else(|e| e.message))
            .collect()
            .await;
        assert_eq!(frames, [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]);
    }
}
