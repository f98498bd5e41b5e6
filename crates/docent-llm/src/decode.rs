//! The loop every wire client shares: read frames (SSE events or NDJSON lines) with an idle
//! timeout, hand each to the vendor's [`Decoder`], and yield the [`StreamEvent`]s it produces.
//! A stream ends after the decoder reports the vendor's final frame; ending earlier is a cut.

use std::{collections::VecDeque, time::Duration};

use futures::{StreamExt, stream::BoxStream};

use crate::{Idle, IdleTimeout, LlmError, LlmStream, StreamEvent, transport};

/// One unit of the wire: an SSE event's data or an NDJSON line. (Anthropic repeats the SSE
/// event name in the data's `type`, and the others name no events, so the name is not kept.)
#[derive(Debug)]
pub(crate) struct Frame {
    pub data: String,
}

pub(crate) type Frames = BoxStream<'static, Result<Frame, LlmError>>;

/// A vendor's stream grammar.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one frame, pushing any events to `out`. Returns `true` after the vendor's final
    /// frame, once the `Done` event is in `out`.
    fn decode(&mut self, frame: Frame, out: &mut VecDeque<StreamEvent>) -> Result<bool, LlmError>;
}

struct Drive<D> {
    provider: &'static str,
    frames: Option<Frames>,
    decoder: D,
    idle: Duration,
    /// Started when the stream is first polled.
    timeout: Option<IdleTimeout>,
    out: VecDeque<StreamEvent>,
    /// The error to yield once the events decoded before it are out.
    failure: Option<LlmError>,
}

/// Turns `frames` into the provider's event stream. The frame source is dropped (closing the
/// connection) as soon as the stream is complete or has failed.
pub(crate) fn events<D: Decoder>(provider: &'static str, frames: Frames, decoder: D, idle: Duration) -> LlmStream {
    let drive =
        Drive { provider, frames: Some(frames), decoder, idle, timeout: None, out: VecDeque::new(), failure: None };
    futures::stream::unfold(drive, |mut d| async move {
        loop {
            if let Some(event) = d.out.pop_front() {
                return Some((Ok(event), d));
            }
            if let Some(failure) = d.failure.take() {
                return Some((Err(failure), d));
            }
            let frames = d.frames.as_mut()?;
            let timeout = d.timeout.get_or_insert_with(|| IdleTimeout::new(d.idle));
            let next = match timeout.next(frames).await {
                Err(Idle) => Err(transport::timed_out(d.provider, d.idle)),
                Ok(None) => Err(transport::cut(d.provider)),
                Ok(Some(next)) => next,
            };
            let finished = next.and_then(|frame| d.decoder.decode(frame, &mut d.out));
            match finished {
                Ok(false) => {}
                Ok(true) => d.frames = None,
                Err(e) => {
                    d.frames = None;
                    d.failure = Some(e);
                }
            }
        }
    })
    .boxed()
}
