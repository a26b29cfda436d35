//! Allocations of `.partial()` over HTTP against the floor of `partial_http` (the same
//! answers: a report of 10 KB, 100 KB and 1 MB as OpenAI tool-call deltas of about 20
//! bytes), counted by dhat: blocks per SSE event and bytes asked for per answer byte.
//! Flat counts across the sizes mean that a cost per byte growing with the answer does
//! not come from allocations. A separate binary, because dhat's allocator slows every
//! allocation and would distort the timings of `partial_http`.
//!
//! Run: `cargo bench --bench partial_http_allocs`. Numbers are printed, never asserted.

#[path = "common/alloc.rs"]
mod alloc;
#[path = "common/mod.rs"]
mod common;
#[path = "common/floor.rs"]
mod floor;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

use std::hint::black_box;

fn main() {
    let server = common::start_server();
    let runtime = common::client_runtime();
    let client = common::client(&server);
    let http = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url());
    if std::env::var_os("ALLOCS_PROFILE").is_some() {
        // Where `.partial()` allocates, by call site: `dhat-heap.json` (dh_view.html).
        let doc = common::report(100_000);
        let answer = common::streamed_answer(&doc);
        server.push(answer.clone());
        server.push(answer);
        runtime.block_on(async { black_box(common::consume_partials(&client).await) });
        let profiler = dhat::Profiler::new_heap();
        runtime.block_on(async { black_box(common::consume_partials(&client).await) });
        drop(profiler);
        return;
    }
    println!(
        "allocations, `.partial()` over HTTP vs the floor (deltas of {} bytes; both counts include the fake provider's thread)\n",
        common::DELTA
    );
    println!(
        "{:>8} | {:>20} | {:>14} | {:>20} | {:>14}",
        "size", ".partial() blocks/ev", "bytes/B", "floor blocks/ev", "bytes/B"
    );
    for target in [10_000, 100_000, 1_000_000] {
        let doc = common::report(target);
        let answer = common::streamed_answer(&doc);
        for _ in 0..4 {
            server.push(answer.clone());
        }
        // Warm-up: connections pooled.
        runtime.block_on(async {
            black_box(common::consume_partials(&client).await);
            black_box(floor::by_hand(&http, &url, |_| {}).await);
        });
        let (_, ours_blocks, ours_bytes) = alloc::count(|| {
            runtime.block_on(async { black_box(common::consume_partials(&client).await) })
        });
        let (_, floor_blocks, floor_bytes) = alloc::count(|| {
            runtime.block_on(async { black_box(floor::by_hand(&http, &url, |_| {}).await) })
        });
        let events = doc.len().div_ceil(common::DELTA) as f64;
        let size = doc.len() as f64;
        println!(
            "{:>7}K | {:>20.2} | {:>14.1} | {:>20.2} | {:>14.1}",
            doc.len() / 1000,
            ours_blocks as f64 / events,
            ours_bytes as f64 / size,
            floor_blocks as f64 / events,
            floor_bytes as f64 / size,
        );
    }
}
