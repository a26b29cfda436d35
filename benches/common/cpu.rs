//! CPU time of the calling thread, so that a benchmark on a busy machine measures the
//! work done, not the time spent waiting for a core.

use std::time::{Duration, Instant};

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`, nanoseconds),
/// or the wall clock since the first call where that cannot be read.
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| {
            static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
            START.get_or_init(Instant::now).elapsed()
        })
}

/// Whether [`thread_cpu`] measures CPU time (else wall-clock time).
pub fn is_cpu_time() -> bool {
    std::fs::read_to_string("/proc/thread-self/schedstat").is_ok()
}
