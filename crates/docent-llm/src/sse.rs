//! Server-sent events from a reqwest response, parsed by eventsource-stream (multi-line data,
//! CRLF, UTF-8 split across chunks), as [`Frame`]s. Comments (keep-alives) never surface.

use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;

use crate::{
    decode::{Frame, Frames},
    transport,
};

pub(crate) fn frames(provider: &'static str, response: reqwest::Response) -> Frames {
    response
        .bytes_stream()
        .eventsource()
        .map(move |item| match item {
            Ok(event) => Ok(Frame { data: event.data }),
            Err(EventStreamError::Transport(e)) => Err(transport::from_reqwest(provider, &e)),
            Err(EventStreamError::Utf8(e)) => Err(transport::malformed(provider, e)),
            Err(EventStreamError::Parser(e)) => Err(transport::malformed(provider, e)),
        })
        .boxed()
}
