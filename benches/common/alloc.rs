//! Counts allocations for the benchmarks' diagnostic modes: whether a cost per byte
//! that grows with the answer comes from allocations (their number, or the bytes they
//! ask for) is read from counts, not guessed from a profile. Counted by dhat's
//! allocator (the bench sets it as the global allocator; it forwards to the system
//! allocator, counting nothing, while no count runs, so the timed runs are not slowed).
//!
//! dhat counts every thread: the fake provider's thread is in the counts too, the same
//! for every reader served the same answer.

/// The allocations (blocks, bytes) made while `f` runs.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    let profiler = dhat::Profiler::builder().testing().build();
    let result = f();
    let stats = dhat::HeapStats::get();
    drop(profiler);
    (result, stats.total_blocks, stats.total_bytes)
}
