//! Developer and benchmark commands (`docent dev …`): generated conversation history at scale
//! and timings of the owner analytics routes over it.

mod bench;
mod seed;

pub use bench::bench_analytics;
pub use seed::{SeedOptions, seed_conversations};
