//! What the fake reads of a request to choose and shape its answer, borrowed from the body:
//! the rest of the body is skipped without being built (a benchmark's request carries a whole
//! conversation, and the fake shares the machine with the server it measures).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};

/// The fields of a request body that any vendor's endpoint looks at. A field of the wrong type
/// fails the whole parse, as the vendors refuse such a request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Head<'a> {
    #[serde(borrow)]
    pub model: Option<Cow<'a, str>>,
    pub max_tokens: Option<IgnoredAny>,
    pub max_completion_tokens: Option<IgnoredAny>,
    #[serde(borrow)]
    pub messages: Option<Vec<MessageHead<'a>>>,
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StreamOptions {
    pub include_usage: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MessageHead<'a> {
    #[serde(borrow)]
    pub role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub tool_calls: Option<Vec<CallHead<'a>>>,
    pub content: Content,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CallHead<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
}

/// A message's content as far as the fake cares: whether it holds an Anthropic `tool_result`
/// block (text content, or none, holds none).
#[derive(Debug, Default)]
pub(crate) struct Content {
    pub has_tool_result: bool,
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

#[derive(Deserialize)]
struct BlockHead<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Option<Cow<'a, str>>,
}

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, null or an array of content blocks")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Content, E> {
        Ok(Content::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Content, E> {
        Ok(Content::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut blocks: A) -> Result<Content, A::Error> {
        let mut has_tool_result = false;
        while let Some(block) = blocks.next_element::<BlockHead<'de>>()? {
            has_tool_result |= block.kind.as_deref() == Some("tool_result");
        }
        Ok(Content { has_tool_result })
    }
}

/// The first of the named fields `(name, present)` that is absent.
pub(crate) fn first_absent<const N: usize>(fields: [(&'static str, bool); N]) -> Option<&'static str> {
    fields.into_iter().find(|(_, present)| !present).map(|(name, _)| name)
}

impl Head<'_> {
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    pub fn messages(&self) -> &[MessageHead<'_>] {
        self.messages.as_deref().unwrap_or_default()
    }

    /// Whether the last message carries a tool result (OpenAI, Mistral and Ollama `role:
    /// tool`; an Anthropic user turn holding a `tool_result` block).
    pub fn ends_with_tool_result(&self) -> bool {
        self.messages().last().is_some_and(|m| m.role.as_deref() == Some("tool") || m.content.has_tool_result)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options.as_ref().and_then(|o| o.include_usage) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_a_reply_depends_on_and_skips_the_rest() {
        let raw = br#"{"model":"gpt-\u00e9","extra":{"deep":[1,2,{"x":null}]},"stream":true,
            "stream_options":{"include_usage":true},
            "messages":[{"role":"user","content":"hi"},
                        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","function":{}}]},
                        {"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","content":"ok"}]}]}"#;
        let head: Head = serde_json::from_slice(raw).unwrap();
        assert_eq!(head.model(), Some("gpt-é"));
        assert_eq!(head.stream, Some(true));
        assert!(head.include_usage());
        assert_eq!(head.messages().len(), 3);
        assert_eq!(head.messages()[1].tool_calls.as_ref().unwrap()[0].id.as_deref(), Some("call_1"));
        assert!(head.ends_with_tool_result());
        assert!(head.max_tokens.is_none());
    }

    #[test]
    fn a_field_of_the_wrong_type_is_a_data_error_and_broken_json_a_syntax_error() {
        let wrong = serde_json::from_slice::<Head>(br#"{"model":"m","messages":"hello"}"#).unwrap_err();
        assert!(wrong.is_data(), "{wrong}");
        let broken = serde_json::from_slice::<Head>(br#"{"model":"#).unwrap_err();
        assert!(!broken.is_data(), "{broken}");
    }

    #[test]
    fn a_plain_last_message_is_not_a_tool_result() {
        let head: Head =
            serde_json::from_slice(br#"{"messages":[{"role":"tool","content":"r"},{"role":"user","content":"q"}]}"#)
                .unwrap();
        assert!(!head.ends_with_tool_result());
        let head: Head = serde_json::from_slice(br#"{"messages":[{"role":"tool","content":"r"}]}"#).unwrap();
        assert!(head.ends_with_tool_result());
    }
}
