//! Peak heap of `client.extract_many` over 1,000, 10,000 and 100,000 items: each item
//! a real HTTP request to the fake provider (which answers each document from its own
//! number), 16 in flight, every result dropped as it is read. The peak must not grow
//! with the number of items: inputs are pulled only when an item can start, results
//! are handed out as they finish, and in ordered mode no item starts more than
//! `concurrency` places ahead of the next one out. The baseline is the 1,000-item run
//! of the same mode, measured in the same process.
//!
//! Counted by dhat's allocator (every thread, the fake provider's included: it records
//! no requests here, `record_requests(false)`): the most bytes live at once among the
//! blocks allocated during the run.
//!
//! Run: `cargo bench --bench many_memory` (`MANY_COUNTS=1000,10000` and
//! `MANY_MODE=finished|ordered` run fewer). Numbers are printed, never asserted.

#[path = "common/mod.rs"]
mod common;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

use futures_util::StreamExt;
use instructor::prelude::*;
use instructor::providers::testing::RecordedRequest;
use instructor::providers::testing::Reply;
use instructor::providers::testing::openai::ChatCompletion;
use std::time::Instant;

#[derive(Debug, Deserialize, Extract)]
struct Doc {
    n: u64,
    title: String,
}

const CONCURRENCY: usize = 16;

/// The answer to the request for document `doc-<n>`.
fn answer(request: &RecordedRequest) -> Option<Reply> {
    let body = String::from_utf8_lossy(request.body());
    let at = body.find("doc-")? + 4;
    let n: u64 = body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let arguments = format!(r#"{{"n": {n}, "title": "Document number {n}"}}"#);
    Some(
        ChatCompletion::tool_call("Doc", arguments)
            .usage(40, 12)
            .reply(),
    )
}

/// Runs `count` items; returns how many came back with the right value.
async fn run(client: &Client, count: u64, ordered: bool) -> u64 {
    let inputs = (0..count).map(|n| (n, format!("Read doc-{n}.")));
    let mut run = client
        .extract_many::<Doc, _, _>(inputs, |extraction, text| extraction.user(text))
        .concurrency(CONCURRENCY);
    if ordered {
        run = run.ordered();
    }
    let mut right = 0;
    while let Some(item) = run.next().await {
        if item
            .result
            .is_ok_and(|doc| doc.n == item.id && !doc.title.is_empty())
        {
            right += 1;
        }
    }
    right
}

/// The peak of live bytes allocated while `f` runs.
fn peak<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let profiler = dhat::Profiler::builder().testing().build();
    let result = f();
    let stats = dhat::HeapStats::get();
    drop(profiler);
    (stats.max_bytes, result)
}

fn main() {
    let server = common::start_server();
    server.set_guard(answer);
    server.record_requests(false);
    let runtime = common::client_runtime();
    let client = common::client(&server);
    // Warm-up: connections, the runtime's buffers and the schema exist before.
    runtime.block_on(run(&client, 200, false));
    println!(
        "peak heap of extract_many over HTTP ({CONCURRENCY} in flight), against the first run of the same mode\n"
    );
    println!(
        "{:>9} | {:>8} | {:>11} | {:>13} | {:>8}",
        "items", "mode", "peak heap", "vs first", "items/s"
    );
    // `MANY_COUNTS=1000,10000` runs fewer (the first is the baseline).
    let counts: Vec<u64> = std::env::var("MANY_COUNTS")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .filter(|list: &Vec<u64>| !list.is_empty())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let modes: &[bool] = match std::env::var("MANY_MODE").as_deref() {
        Ok("finished") => &[false],
        Ok("ordered") => &[true],
        _ => &[false, true],
    };
    for &ordered in modes {
        let mut baseline = None;
        for &count in &counts {
            let started = Instant::now();
            let (bytes, right) = peak(|| runtime.block_on(run(&client, count, ordered)));
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(right, count, "every item extracted");
            let base = *baseline.get_or_insert(bytes);
            println!(
                "{:>9} | {:>8} | {:>8.1} KB | {:>12.2}x | {:>8.0}",
                count,
                if ordered { "ordered" } else { "finished" },
                bytes as f64 / 1e3,
                bytes as f64 / base as f64,
                count as f64 / seconds,
            );
        }
    }
    println!(
        "\nratio: peak heap of the run / peak heap of the 1,000-item run (flat memory: about 1x)"
    );
}
