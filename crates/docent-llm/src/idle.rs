//! A stream's idle timeout that costs nothing per item: one timer for the stream's life rather
//! than one per wait. `tokio::time::timeout` around each `next()` registers a timer in the
//! runtime's wheel whenever the stream is pending and removes it when the item comes, which a
//! streamed reply paid for every token, twice (the wire client and the turn each wait so).
//! Here each wait only notes when it began; when the timer fires, it is re-armed from the start
//! of the current wait, and only a whole idle period of waiting is a timeout, as before.

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

/// The longest wait for each next item of one stream.
pub struct IdleTimeout {
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

/// No item came for the whole idle period.
#[derive(Debug)]
pub struct Idle;

impl IdleTimeout {
    pub fn new(idle: Duration) -> Self {
        Self { idle, timer: Box::pin(tokio::time::sleep(idle)) }
    }

    /// The next item of `stream` (`None` when it ended), or `Idle` when waiting for it took
    /// longer than the idle period.
    pub async fn next<S: Stream + Unpin>(&mut self, stream: &mut S) -> Result<Option<S::Item>, Idle> {
        let due = Instant::now() + self.idle;
        loop {
            tokio::select! {
                biased;
                item = stream.next() => return Ok(item),
                () = &mut self.timer => {
                    if Instant::now() >= due {
                        return Err(Idle);
                    }
                    self.timer.as_mut().reset(due);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items spaced under the idle period keep the stream alive past the period in total; a
    /// gap longer than it is a timeout. Time spent between waits does not count.
    #[tokio::test]
    async fn only_a_whole_idle_gap_times_out() {
        let gaps = [40u64, 40, 40, 400];
        let items = futures::stream::iter(gaps).then(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        });
        let mut items = Box::pin(items);
        let mut idle = IdleTimeout::new(Duration::from_millis(200));
        for expected in [40, 40, 40] {
            assert_eq!(idle.next(&mut items).await.unwrap(), Some(expected));
            tokio::time::sleep(Duration::from_millis(180)).await;
        }
        assert!(idle.next(&mut items).await.is_err(), "a 400 ms gap passes a 200 ms idle period");
    }

    #[tokio::test]
    async fn the_end_of_the_stream_is_not_a_timeout() {
        let mut items = futures::stream::iter([1, 2]);
        let mut idle = IdleTimeout::new(Duration::from_millis(100));
        assert_eq!(idle.next(&mut items).await.unwrap(), Some(1));
        assert_eq!(idle.next(&mut items).await.unwrap(), Some(2));
        assert_eq!(idle.next(&mut items).await.unwrap(), None);
    }
}
