//! Benchmarks of the tower shared-session layers against the crates people use today,
//! on one workload, in one run. See `benches/README.md` for how to run them and the figures.

pub mod ours;
pub mod peers;
pub mod postgres_util;
pub mod redis_util;
pub mod tokens;
pub mod variants;
pub mod workload;
