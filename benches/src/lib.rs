//! Shared workload for the criterion benches (see `benches/README.md`).
