//! CPU time of the calling thread, so that a benchmark on a busy machine measures the
//! work done, not the time spent waiting for a core.
//!
//! Read from the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`), which counts up to the
//! moment of the call. (`/proc/thread-self/schedstat`, read before, is brought up to
//! date only at scheduler ticks and switches: a run shorter than a tick could read as
//! almost nothing, and a best-of over short runs picked exactly those.)

use std::time::Duration;

/// CPU time of the calling thread.
pub fn thread_cpu() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

/// Whether [`thread_cpu`] measures CPU time (always, on the platforms the benchmarks
/// run on).
pub fn is_cpu_time() -> bool {
    true
}
