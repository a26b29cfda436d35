//! Peak heap of a streamed extraction: a 1 MB report (and 100 KB) streamed over real
//! HTTP by the fake provider as OpenAI tool-call deltas of about 20 bytes and consumed
//! with `.partial()` (each update dropped before the next, the value kept at the end),
//! against `serde_json::from_str::<Report>` of the same document (the text held, plus
//! the peak of the parse). Counted by dhat's allocator: the most bytes live at once
//! among the blocks allocated during the measurement.
//!
//! The fake provider runs in the same process (on its own thread); its answer is built
//! before the measurement and shared, not copied, so what it adds is its connection
//! buffers.
//!
//! Run: `cargo bench --bench stream_memory`. Numbers are printed, never asserted.

#[path = "common/mod.rs"]
mod common;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

use std::hint::black_box;

/// The peak of live bytes allocated while `f` runs (what `f` returns kept to the end).
fn peak<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let profiler = dhat::Profiler::builder().testing().build();
    let result = f();
    let stats = dhat::HeapStats::get();
    drop(profiler);
    (stats.max_bytes, result)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    let server = common::start_server();
    let runtime = common::client_runtime();
    let client = common::client(&server);
    println!(
        "peak heap, `.partial()` over HTTP (deltas of {} bytes) vs serde_json::from_str::<T>\n",
        common::DELTA
    );
    println!(
        "{:>8} | {:>16} | {:>14} | {:>20} | {:>7}",
        "size", ".partial() peak", ".await peak", "text + from_str peak", "ratio"
    );
    for target in [100_000, 1_000_000] {
        let doc = common::report(target);
        let answer = common::streamed_answer(&doc);
        // Warm-up: the connection pool and the runtime's own buffers exist before.
        server.push(answer.clone());
        black_box(runtime.block_on(common::consume_partials(&client)));
        server.push(answer);
        let (streamed, (partials, report)) =
            peak(|| runtime.block_on(common::consume_partials(&client)));
        black_box((partials, report));
        // The same answer whole (one JSON response), for comparison.
        server.push(
            instructor::providers::testing::openai::ChatCompletion::tool_call(
                "Report",
                doc.as_str(),
            )
            .reply(),
        );
        let (whole, report) = peak(|| {
            runtime.block_on(async {
                client
                    .extract::<common::Report>()
                    .user("The report.")
                    .await
                    .expect("a report")
            })
        });
        black_box(report);
        let (parsed, report) = peak(|| {
            let text = doc.clone();
            let report: common::Report = serde_json::from_str(&text).expect("a report");
            (text, report)
        });
        black_box(report);
        println!(
            "{:>7}K | {:>13.2} MB | {:>11.2} MB | {:>17.2} MB | {:>6.2}x",
            doc.len() / 1000,
            mb(streamed),
            mb(whole),
            mb(parsed),
            streamed as f64 / parsed as f64
        );
    }
    println!(
        "\nratio: .partial() peak / peak of holding the text and parsing it (`.await`: the same answer as one JSON response, for comparison)"
    );
}
