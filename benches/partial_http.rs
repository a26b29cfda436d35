//! `.partial()` over real HTTP: a nested report of 10 KB, 100 KB and 1 MB, streamed by
//! the local fake provider as OpenAI tool-call deltas of about 20 bytes (one SSE event
//! each), consumed as typed partials to the validated value; side by side in one run
//! with
//!
//! - the floor: reqwest, splitting the SSE, `serde_json` on each event's payload
//!   (borrowing the delta) and `serde_json::from_str::<Report>` of the final text:
//!   the least any client that reads the value at the end must do, with no partials;
//! - re-parsing per chunk: the floor plus a parse of the accumulated text after every
//!   delta (jiter's partial mode), what Python instructor does for its partials.
//!
//! Times are CPU time of the client thread (the server runs on a thread of its own),
//! the best of several runs, per byte of the answer. Re-parsing is quadratic: it is
//! measured up to 100 KB and extrapolated to 1 MB from 100 KB (marked "est.").
//!
//! A request also has a fixed cost, whatever the answer's size (its headers, the
//! extraction's request and final reading), which weighs on the per-byte cost of a
//! small answer; both readers are also timed on the smallest report (one section), and
//! the per-byte cost above that is printed per size, with its spread across sizes.
//!
//! It also draws `docs/streaming.svg` (CPU per byte against answer size).
//!
//! Run: `cargo bench --bench partial_http`. Numbers are printed, never asserted.

#[path = "common/mod.rs"]
mod common;
#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/floor.rs"]
mod floor;

use cpu::thread_cpu;
use floor::by_hand;
use std::hint::black_box;
use std::time::Duration;

/// The least CPU time of `runs` runs of `f` on `runtime`.
fn best_of<F, Fut>(runtime: &tokio::runtime::Runtime, runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    (0..runs)
        .map(|_| {
            let start = thread_cpu();
            runtime.block_on(f());
            thread_cpu().saturating_sub(start)
        })
        .min()
        .unwrap_or_default()
}

fn ns_per_byte(time: Duration, bytes: usize) -> f64 {
    time.as_nanos() as f64 / bytes as f64
}

struct Row {
    size: usize,
    partial: f64,
    floor: f64,
    reparse: f64,
    /// Per byte above the fixed cost of a request (see `fixed` in `main`).
    partial_above: f64,
    floor_above: f64,
}

fn main() {
    let server = common::start_server();
    let runtime = common::client_runtime();
    let client = common::client(&server);
    let http = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url());
    if !cpu::is_cpu_time() {
        println!("(no /proc/thread-self/schedstat: wall-clock time instead of CPU time)");
    }
    println!(
        "`.partial()` over HTTP, OpenAI tool-call deltas of {} bytes; CPU time of the client thread per answer byte (best of several runs)\n",
        common::DELTA
    );
    println!(
        "{:>8} | {:>8} | {:>12} | {:>12} | {:>7} | {:>18} | {:>9}",
        "size", "partials", ".partial()", "floor", "ratio", "re-parse per chunk", "ratio"
    );
    // `PARTIAL_HTTP_COUNT=<bytes>`: one untimed run of each reader on a report of about
    // that size, inside `count_partial` and `count_floor`, for counting instructions
    // (`valgrind --tool=callgrind --toggle-collect='partial_http::count_*'`), which the
    // machine's noise does not reach.
    if let Some(size) = std::env::var("PARTIAL_HTTP_COUNT")
        .ok()
        .and_then(|size| size.parse::<usize>().ok())
    {
        let doc = common::report(size);
        let answer = common::streamed_answer(&doc);
        for _ in 0..4 {
            server.push(answer.clone());
        }
        // A warm-up of each (connections pooled, buffers grown), then the counted runs.
        runtime.block_on(async {
            black_box(common::consume_partials(&client).await);
            black_box(by_hand(&http, &url, |_| {}).await);
        });
        count_partial(&runtime, &client);
        count_floor(&runtime, &http, &url);
        println!("{} bytes", doc.len());
        return;
    }
    // `PARTIAL_HTTP_ONLY=1`: `.partial()` only, for profiling.
    if std::env::var_os("PARTIAL_HTTP_ONLY").is_some() {
        for target in [10_000, 100_000, 1_000_000] {
            let doc = common::report(target);
            let answer = common::streamed_answer(&doc);
            for _ in 0..10 {
                server.push(answer.clone());
            }
            let time = best_of(&runtime, 10, || async {
                black_box(common::consume_partials(&client).await);
            });
            println!(
                "{} KB: {:.1} ns/B",
                doc.len() / 1000,
                ns_per_byte(time, doc.len())
            );
        }
        return;
    }
    // The fixed cost of a request, whatever the answer's size (its headers, the
    // extraction's request and final reading, the floor's request): both readers on
    // the smallest report, so that the per-byte cost above it can be told apart from
    // a fixed cost spread over few bytes (at 10 KB it is a third of the whole).
    let fixed = {
        let doc = common::report(1);
        let answer = common::streamed_answer(&doc);
        let runs = 60;
        for _ in 0..2 * runs + 2 {
            server.push(answer.clone());
        }
        runtime.block_on(async {
            black_box(common::consume_partials(&client).await);
            black_box(by_hand(&http, &url, |_| {}).await);
        });
        let (mut ours, mut floor) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            ours = ours.min(best_of(&runtime, 1, || async {
                black_box(common::consume_partials(&client).await);
            }));
            floor = floor.min(best_of(&runtime, 1, || async {
                black_box(by_hand(&http, &url, |_| {}).await);
            }));
        }
        (doc.len(), ours, floor)
    };
    let mut rows = Vec::new();
    let mut reparse_100k: Option<(usize, Duration)> = None;
    for target in [10_000, 100_000, 1_000_000] {
        let doc = common::report(target);
        let answer = common::streamed_answer(&doc);
        let runs = match target {
            10_000 => 40,
            100_000 => 15,
            _ => 6,
        };
        // A warm-up of each (connections pooled, buffers grown), then the runs.
        for _ in 0..2 {
            server.push(answer.clone());
        }
        let partials = std::cell::Cell::new(0);
        runtime.block_on(async {
            black_box(common::consume_partials(&client).await);
            black_box(by_hand(&http, &url, |_| {}).await);
        });
        for _ in 0..2 * runs {
            server.push(answer.clone());
        }
        // Interleaved, so that both meet the same moments of a busy machine.
        let (mut ours, mut floor) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            ours = ours.min(best_of(&runtime, 1, || async {
                let (count, report) = common::consume_partials(&client).await;
                partials.set(count);
                black_box(report);
            }));
            floor = floor.min(best_of(&runtime, 1, || async {
                black_box(by_hand(&http, &url, |_| {}).await);
            }));
        }
        let (reparse, estimated) = if target <= 100_000 {
            let reparse_runs = if target <= 10_000 { 5 } else { 1 };
            for _ in 0..reparse_runs {
                server.push(answer.clone());
            }
            let time = best_of(&runtime, reparse_runs, || async {
                black_box(
                    by_hand(&http, &url, |text| {
                        black_box(
                            jiter::JsonValue::parse_owned(
                                text.as_bytes(),
                                false,
                                jiter::PartialMode::TrailingStrings,
                            )
                            .ok(),
                        );
                    })
                    .await,
                );
            });
            reparse_100k = Some((doc.len(), time));
            (time, false)
        } else {
            // Quadratic: the time grows with the square of the size.
            let (size, time) = reparse_100k.unwrap_or((doc.len(), Duration::ZERO));
            let scale = (doc.len() as f64 / size as f64).powi(2);
            (time.mul_f64(scale), true)
        };
        let row = Row {
            size: doc.len(),
            partial: ns_per_byte(ours, doc.len()),
            floor: ns_per_byte(floor, doc.len()),
            reparse: ns_per_byte(reparse, doc.len()),
            partial_above: ns_per_byte(ours.saturating_sub(fixed.1), doc.len() - fixed.0),
            floor_above: ns_per_byte(floor.saturating_sub(fixed.2), doc.len() - fixed.0),
        };
        println!(
            "{:>7}K | {:>8} | {:>7.1} ns/B | {:>7.1} ns/B | {:>6.2}x | {:>9.0} ns/B{:<6} | {:>8.1}x",
            row.size / 1000,
            partials.get(),
            row.partial,
            row.floor,
            row.partial / row.floor,
            row.reparse,
            if estimated { " est." } else { "" },
            row.reparse / row.partial,
        );
        rows.push(row);
    }
    let flat = |f: fn(&Row) -> f64| {
        let values: Vec<f64> = rows.iter().map(f).collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        max / min
    };
    println!(
        "\nratio: .partial() / floor; re-parse ratio: re-parse per chunk / .partial()\n\
         per-byte spread across sizes (max/min): .partial() {:.2}, floor {:.2}",
        flat(|r| r.partial),
        flat(|r| r.floor)
    );
    println!(
        "\nabove the fixed cost of a request (a {}-byte answer: .partial() {:.0} us, floor {:.0} us):",
        fixed.0,
        fixed.1.as_secs_f64() * 1e6,
        fixed.2.as_secs_f64() * 1e6
    );
    for row in &rows {
        println!(
            "{:>7}K | .partial() {:>6.1} ns/B | floor {:>6.1} ns/B | {:>5.2}x",
            row.size / 1000,
            row.partial_above,
            row.floor_above,
            row.partial_above / row.floor_above
        );
    }
    println!(
        "per-byte spread across sizes above the fixed cost (max/min): .partial() {:.2}, floor {:.2}",
        flat(|r| r.partial_above),
        flat(|r| r.floor_above)
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/streaming.svg");
    match chart(&rows, &path) {
        Ok(()) => println!("chart: {}", path.display()),
        Err(error) => println!("chart not drawn: {error}"),
    }
}

/// One `.partial()` run, by name for callgrind (see `PARTIAL_HTTP_COUNT`).
#[inline(never)]
fn count_partial(runtime: &tokio::runtime::Runtime, client: &instructor::Client) {
    runtime.block_on(async { black_box(common::consume_partials(client).await) });
}

/// One run of the floor, by name for callgrind (see `PARTIAL_HTTP_COUNT`).
#[inline(never)]
fn count_floor(runtime: &tokio::runtime::Runtime, http: &reqwest::Client, url: &str) {
    runtime.block_on(async { black_box(by_hand(http, url, |_| {}).await) });
}

/// CPU per byte against answer size, log-log, one line per reader.
fn chart(rows: &[Row], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let max = rows
        .iter()
        .map(|r| r.reparse.max(r.partial))
        .fold(1.0, f64::max);
    let min = rows
        .iter()
        .map(|r| r.floor.min(r.partial))
        .fold(f64::INFINITY, f64::min);
    let root = SVGBackend::new(path, (720, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Streamed extraction over HTTP: CPU time per answer byte",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (5_000f64..2_000_000f64).log_scale(),
            ((min / 2.0)..(max * 2.0)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("answer size (bytes)")
        .y_desc("CPU ns per byte")
        .x_label_formatter(&|x| {
            if *x >= 1e6 {
                format!("{:.0} MB", x / 1e6)
            } else {
                format!("{:.0} KB", x / 1e3)
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    type Series = (&'static str, RGBColor, fn(&Row) -> f64);
    let series: [Series; 3] = [
        (".partial()", BLUE, |r| r.partial),
        ("floor (reqwest + SSE + serde_json)", GREEN, |r| r.floor),
        ("re-parse per chunk (1 MB extrapolated)", RED, |r| r.reparse),
    ];
    for (name, color, value) in series {
        let points: Vec<(f64, f64)> = rows.iter().map(|r| (r.size as f64, value(r))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
