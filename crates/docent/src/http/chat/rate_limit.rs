//! Per-IP chat limits: fixed one-minute and one-hour windows, in memory. Each replica counts its
//! own traffic; `Retry-After` is the time left in the window that is full.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

const SHARDS: usize = 16;

#[derive(Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

impl Window {
    /// Counts one hit in a window of `len_ms`; on refusal, the time until the window resets.
    fn hit(&mut self, now_ms: i64, len_ms: i64, max: u32) -> Result<(), i64> {
        if now_ms - self.start_ms >= len_ms {
            *self = Window { start_ms: now_ms, count: 0 };
        }
        if self.count >= max {
            return Err(self.start_ms + len_ms - now_ms);
        }
        self.count += 1;
        Ok(())
    }
}

pub struct RateLimiter {
    per_minute: u32,
    per_hour: u32,
    shards: Vec<Mutex<HashMap<IpAddr, (Window, Window)>>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, per_hour: u32) -> Self {
        Self { per_minute, per_hour, shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }

    /// Counts a request from `key`; `Err(retry_after)` when a window is full.
    pub fn check(&self, key: IpAddr, now_ms: i64) -> Result<(), Duration> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() > 50_000 {
            // Forget clients whose hour is over, so the map does not grow without bound.
            map.retain(|_, (_, hour)| now_ms - hour.start_ms < 3_600_000);
        }
        let fresh = Window { start_ms: now_ms, count: 0 };
        let (minute, hour) = map.entry(key).or_insert((fresh, fresh));
        // Check both windows before counting, so a refused request costs nothing.
        let (mut m, mut h) = (*minute, *hour);
        let result = m.hit(now_ms, 60_000, self.per_minute).and_then(|()| h.hit(now_ms, 3_600_000, self.per_hour));
        match result {
            Ok(()) => {
                *minute = m;
                *hour = h;
                Ok(())
            }
            Err(ms) => Err(Duration::from_millis(u64::try_from(ms).unwrap_or(0).max(1_000))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minute_and_hour_windows_both_bite() {
        let ip: IpAddr = "1.2.3.4".parse().unwrap_or_else(|_| panic!("ip"));
        let other: IpAddr = "5.6.7.8".parse().unwrap_or_else(|_| panic!("ip"));
        let limiter = RateLimiter::new(2, 3);
        assert!(limiter.check(ip, 0).is_ok());
        assert!(limiter.check(ip, 10).is_ok());
        let wait = limiter.check(ip, 1_000).unwrap_err();
        assert_eq!(wait.as_secs(), 59);
        assert!(limiter.check(other, 1_000).is_ok(), "another client is not affected");
        assert!(limiter.check(ip, 60_000).is_ok(), "a new minute");
        let wait = limiter.check(ip, 61_000).unwrap_err();
        assert!(wait.as_secs() > 3_000, "the hour is full: {wait:?}");
    }
}
