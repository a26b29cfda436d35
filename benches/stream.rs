//! Streaming engine benchmark: a realistic nested report (sections with title, body,
//! tags, score) of 10 KB, 100 KB and 1 MB, fed in 8-byte chunks into the typed partial,
//! side by side with `serde_json::from_slice` of the whole document into a `Value`, and
//! with re-parsing the accumulated buffer on every chunk through jiter's partial mode
//! (what Python instructor does).
//!
//! A second table reads the same report as a prompted answer (a `<think>` block,
//! prose, a fence) through the lenient stream, whose end reads the whole answer once
//! more, against the strict stream in the same run.
//!
//! Times are CPU time of the benchmark's thread (the best of several runs), so that a
//! busy machine slows the numbers less.
//!
//! Run: `cargo bench --bench stream`. Numbers are printed, never asserted.

#[path = "common/cpu.rs"]
mod cpu;

use cpu::thread_cpu;
use instructor::prelude::*;
use instructor::stream::{Limits, PartialStream};
use std::hint::black_box;
use std::time::Duration;

mod common;

use common::Report;

/// The chunk size the engine is fed, smaller than any network read.
const CHUNK: usize = 8;

/// The chunk size of this run: `CHUNK=20 cargo bench --bench stream` feeds 20-byte
/// chunks (the size of the tool-call deltas of the HTTP benchmark) instead.
fn chunk() -> usize {
    std::env::var("CHUNK")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(CHUNK)
}

/// The report of `common` as bytes.
fn report(target: usize) -> Vec<u8> {
    common::report(target).into_bytes()
}

/// The fastest of `runs` timings of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = thread_cpu();
            f();
            thread_cpu().saturating_sub(start)
        })
        .min()
        .unwrap_or_default()
}

// Not inlined: `valgrind --tool=callgrind --toggle-collect='stream::typed_partial'` (and
// `stream::serde_value`) counts these by name.
#[inline(never)]
fn typed_partial(doc: &[u8]) {
    let mut stream = PartialStream::<Report>::new();
    for piece in doc.chunks(chunk()) {
        black_box(stream.feed(piece).expect("valid").is_some());
    }
    black_box(stream.partial());
}

fn typed_partial_and_final_value(doc: &[u8]) {
    let mut stream = PartialStream::<Report>::new();
    for piece in doc.chunks(chunk()) {
        black_box(stream.feed(piece).expect("valid").is_some());
    }
    black_box(stream.finish(&Context::new()).expect("valid report"));
}

/// The report as a prompted model writes it.
fn prompted(doc: &[u8]) -> Vec<u8> {
    let mut answer = b"<think>The user wants the report.</think>\nHere it is:\n```json\n".to_vec();
    answer.extend_from_slice(doc);
    answer.extend_from_slice(b"\n```\nAnything else?");
    answer
}

fn lenient_partial_and_final_value(answer: &[u8]) {
    let mut stream = PartialStream::<Report>::lenient(Limits::default());
    for piece in answer.chunks(chunk()) {
        black_box(stream.feed(piece).expect("lenient").is_some());
    }
    black_box(stream.finish(&Context::new()).expect("valid report"));
}

#[inline(never)]
fn serde_value(doc: &[u8]) {
    black_box(serde_json::from_slice::<serde_json::Value>(doc).expect("valid"));
}

fn jiter_reparse(doc: &[u8]) {
    let step = chunk();
    for end in (step..doc.len() + step).step_by(step) {
        let prefix = &doc[..end.min(doc.len())];
        black_box(
            jiter::JsonValue::parse_owned(prefix, false, jiter::PartialMode::TrailingStrings).ok(),
        );
    }
}

fn ns_per_byte(time: Duration, bytes: usize) -> f64 {
    time.as_nanos() as f64 / bytes as f64
}

/// The modes for profiling and counting (`STREAM_TYPED_ONLY=...`), all at 1 MB:
/// `1` the typed partial and serde's `Value` (best of 20 each); `alone` the typed
/// partial only (for `perf record`); `preview` a preview-only stream (no copy of the
/// document kept); `parser` the parser alone with a sink that does nothing; `count` and
/// `count-serde` one untimed run of the typed partial or of serde (for
/// `valgrind --tool=callgrind`, under which the thread's CPU clock does not run).
fn profiling(mode: &str) {
    let doc = report(1_000_000);
    match mode {
        "count" => typed_partial(&doc),
        "count-serde" => serde_value(&doc),
        "parser" => {
            let time = best_of(20, || {
                let mut parser = instructor::stream::Parser::new();
                let mut sink =
                    |_: &[instructor::partial::PathSegment],
                     event: instructor::partial::Event<'_>| {
                        black_box(event);
                        Ok::<(), ()>(())
                    };
                for piece in doc.chunks(chunk()) {
                    parser.feed(piece, &mut sink).expect("valid");
                }
            });
            println!("parser alone {:.2} ns/B", ns_per_byte(time, doc.len()));
        }
        "preview" => {
            let time = best_of(20, || {
                let mut stream = PartialStream::<Report>::new().preview_only();
                for piece in doc.chunks(chunk()) {
                    black_box(stream.feed(piece).expect("valid").is_some());
                }
                black_box(stream.partial());
            });
            println!("preview only {:.2} ns/B", ns_per_byte(time, doc.len()));
        }
        "alone" => {
            let ours = best_of(20, || typed_partial(&doc));
            println!("typed partial {:.2} ns/B", ns_per_byte(ours, doc.len()));
        }
        _ => {
            let ours = best_of(20, || typed_partial(&doc));
            let serde = best_of(20, || serde_value(&doc));
            println!(
                "typed partial {:.2} ns/B, serde Value {:.2} ns/B",
                ns_per_byte(ours, doc.len()),
                ns_per_byte(serde, doc.len())
            );
        }
    }
}

fn main() {
    if let Some(mode) = std::env::var_os("STREAM_TYPED_ONLY") {
        profiling(&mode.to_string_lossy());
        return;
    }
    if !cpu::is_cpu_time() {
        println!("(no /proc/thread-self/schedstat: wall-clock time instead of CPU time)");
    }
    println!(
        "streaming engine, {}-byte chunks (CPU time, best of several runs)\n",
        chunk()
    );
    println!(
        "{:>8} | {:>14} | {:>14} | {:>14} | {:>9} | {:>16} | {:>9}",
        "size", "typed partial", "+ final T", "serde Value", "ratio", "jiter re-parse", "ratio"
    );
    for target in [10_000, 100_000, 1_000_000] {
        let doc = report(target);
        let runs = if target >= 1_000_000 { 5 } else { 20 };
        // Interleaved, so that all three meet the same moments of a busy machine.
        let (mut ours, mut ours_final, mut serde) = (Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            ours = ours.min(best_of(1, || typed_partial(&doc)));
            ours_final = ours_final.min(best_of(1, || typed_partial_and_final_value(&doc)));
            serde = serde.min(best_of(1, || serde_value(&doc)));
        }
        // Re-parsing is quadratic: 1 MB would take minutes, so it is measured up to
        // 100 KB and extrapolated (time grows with the square of the size).
        let (jiter, note) = if target <= 100_000 {
            (
                best_of(if target <= 10_000 { 5 } else { 1 }, || jiter_reparse(&doc)),
                "",
            )
        } else {
            let small = report(100_000);
            let measured = best_of(1, || jiter_reparse(&small));
            let scale = (doc.len() as f64 / small.len() as f64).powi(2);
            (measured.mul_f64(scale), " (est.)")
        };
        println!(
            "{:>7}K | {:>9.2} ns/B | {:>9.2} ns/B | {:>9.2} ns/B | {:>8.2}x | {:>9.1} ms{:<6} | {:>8.0}x",
            doc.len() / 1000,
            ns_per_byte(ours, doc.len()),
            ns_per_byte(ours_final, doc.len()),
            ns_per_byte(serde, doc.len()),
            ours.as_secs_f64() / serde.as_secs_f64(),
            jiter.as_secs_f64() * 1000.0,
            note,
            jiter.as_secs_f64() / ours.as_secs_f64(),
        );
    }
    println!(
        "\nratio: typed partial time / serde_json::from_slice into Value; \
         jiter ratio: re-parse-per-chunk time / typed partial time"
    );
    println!(
        "\nprompted answer (think block, prose, fence), {}-byte chunks\n",
        chunk()
    );
    println!(
        "{:>8} | {:>16} | {:>16} | {:>9}",
        "size", "lenient + final", "strict + final", "ratio"
    );
    for target in [10_000, 100_000, 1_000_000] {
        let doc = report(target);
        let answer = prompted(&doc);
        let runs = if target >= 1_000_000 { 5 } else { 20 };
        let lenient = best_of(runs, || lenient_partial_and_final_value(&answer));
        let strict = best_of(runs, || typed_partial_and_final_value(&doc));
        println!(
            "{:>7}K | {:>11.2} ns/B | {:>11.2} ns/B | {:>8.2}x",
            doc.len() / 1000,
            ns_per_byte(lenient, answer.len()),
            ns_per_byte(strict, doc.len()),
            lenient.as_secs_f64() / strict.as_secs_f64(),
        );
    }
    println!("\nratio: lenient stream time / strict stream time on the bare report");
}
