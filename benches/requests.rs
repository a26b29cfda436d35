//! Per-request overhead benchmark: many small non-streamed extractions at high
//! concurrency against a local HTTP server, side by side with a bare client (a
//! `reqwest` POST of an equivalent JSON body and `serde_json` parsing of the response
//! into the same type), in one run.
//!
//! The server runs in a separate process (this binary started again with
//! `--serve-fixed`) and answers every `POST` with the same OpenAI chat completion (one
//! tool call), so its CPU is not counted: the client's CPU is the CPU time of this
//! process (all threads, its CPU clock `CLOCK_PROCESS_CPUTIME_ID`), read before and
//! after each run. The client runs on a current-thread tokio runtime.
//!
//! Each round runs the bare client, then instructor, then the bare client with the same
//! HTTP settings; besides the best and median CPU of each, the median of the per-round
//! ratios is printed (the rounds of one pair run back to back, so a machine busy with
//! other work moves both alike).
//!
//! Run: `cargo bench --bench requests` (env `REQUESTS`, `CONCURRENCY`, `ROUNDS` change
//! the defaults 5000, 256, 3; `ONLY=bare|instructor|timed` runs that client alone and
//! prints nothing but what it ran, for `perf stat -i -e instructions:u,instructions:k`
//! from outside, which counts the work itself, steadier than time on a busy machine).
//! Numbers are printed, never asserted.

use futures_util::StreamExt;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize, Extract)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
}

const KEY: &str = "sk-bench-0123456789abcdef";
const MODEL: &str = "gpt-4o-mini";

/// What the server answers, every time.
const REPLY: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"User","arguments":"{\"name\":\"Jason\",\"age\":25}"}}],"refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":12,"total_tokens":92,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_bench"}"#;

fn main() {
    if std::env::args().any(|arg| arg == "--serve-fixed") {
        serve();
        return;
    }
    let requests = setting("REQUESTS", 5000);
    let concurrency = setting("CONCURRENCY", 256);
    let rounds = setting("ROUNDS", 3);

    let mut server = Command::new(std::env::current_exe().expect("the bench's own path"))
        .arg("--serve-fixed")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server process starts");
    let mut port = String::new();
    BufReader::new(server.stdout.take().expect("the server's stdout"))
        .read_line(&mut port)
        .expect("the server says its port");
    let base_url = format!("http://127.0.0.1:{}/v1", port.trim());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let provider = OpenAi::new(OpenAiConfig::new(&base_url).with_api_key(KEY));
        let client = Client::new(provider).with_model(MODEL);
        let bare = Bare::new(&base_url, false);
        // The bare client again with the HTTP settings instructor's client has by
        // default (connect, read and whole-exchange timeouts, no redirects): what
        // reqwest itself costs for them.
        let timed = Bare::new(&base_url, true);

        println!(
            "{requests} non-streamed extractions of a small type at concurrency {concurrency}, \
             {rounds} rounds (client CPU = this process; the server is another process)\n"
        );
        // Warm up: connections, schema caches, allocator.
        run_instructor(&client, concurrency.min(requests), concurrency).await;
        run_bare(&bare, concurrency.min(requests), concurrency).await;
        run_bare(&timed, concurrency.min(requests), concurrency).await;

        // One client alone (`ONLY=bare|instructor|timed`), for counters read from
        // outside (`perf stat -i -e instructions -- ...`): what it costs, machine load
        // apart.
        if let Ok(only) = std::env::var("ONLY") {
            for _ in 0..rounds {
                match only.as_str() {
                    "instructor" => run_instructor(&client, requests, concurrency).await,
                    "timed" => run_bare(&timed, requests, concurrency).await,
                    _ => run_bare(&bare, requests, concurrency).await,
                }
            }
            println!("{only}: {rounds} rounds of {requests} requests");
            return;
        }

        let mut instructor = Vec::new();
        let mut baseline = Vec::new();
        let mut with_timeouts = Vec::new();
        for _ in 0..rounds {
            baseline.push(measure(|| run_bare(&bare, requests, concurrency)).await);
            instructor.push(measure(|| run_instructor(&client, requests, concurrency)).await);
            with_timeouts.push(measure(|| run_bare(&timed, requests, concurrency)).await);
        }
        println!(
            "{:<26} {:>12} {:>14} {:>12}",
            "client", "CPU (s)", "CPU/req (us)", "req/s"
        );
        let (bare_best, bare_median) = report("bare reqwest + serde_json", &baseline, requests);
        let (timed_best, timed_median) =
            report("bare, same HTTP settings", &with_timeouts, requests);
        let (ours_best, ours_median) = report("instructor .send()", &instructor, requests);
        println!("\ninstructor against the bare client:");
        compare(&format!("  best of {rounds}"), ours_best, bare_best);
        compare(&format!("  median of {rounds}"), ours_median, bare_median);
        println!("instructor against the bare client with the same HTTP settings:");
        compare(&format!("  best of {rounds}"), ours_best, timed_best);
        compare(&format!("  median of {rounds}"), ours_median, timed_median);
        println!("median of the per-round CPU ratios (each round's runs back to back):");
        println!(
            "  {:.2}x the bare client, {:.2}x the bare client with the same HTTP settings",
            paired(&instructor, &baseline),
            paired(&instructor, &with_timeouts),
        );
    });
    drop(server.stdin.take());
    let _ = server.kill();
    let _ = server.wait();
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
struct Run {
    cpu: Duration,
    wall: Duration,
}

async fn measure<F, Fut>(run: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let cpu = process_cpu();
    let start = Instant::now();
    run().await;
    Run {
        wall: start.elapsed(),
        cpu: process_cpu().saturating_sub(cpu),
    }
}

/// Prints each round, returns the best (least CPU, shortest time) and the median.
fn report(name: &str, runs: &[Run], requests: usize) -> (Run, Run) {
    for run in runs {
        println!(
            "{name:<26} {:>12.3} {:>14.1} {:>12.0}",
            run.cpu.as_secs_f64(),
            run.cpu.as_secs_f64() * 1e6 / requests as f64,
            requests as f64 / run.wall.as_secs_f64(),
        );
    }
    let mut cpu: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
    let mut wall: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    cpu.sort();
    wall.sort();
    let best = Run {
        cpu: cpu.first().copied().unwrap_or_default(),
        wall: wall.first().copied().unwrap_or_default(),
    };
    let median = Run {
        cpu: cpu.get(cpu.len() / 2).copied().unwrap_or_default(),
        wall: wall.get(wall.len() / 2).copied().unwrap_or_default(),
    };
    (best, median)
}

/// The median of `ours[i].cpu / theirs[i].cpu` over the rounds.
fn paired(ours: &[Run], theirs: &[Run]) -> f64 {
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(ours, theirs)| ours.cpu.as_secs_f64() / theirs.cpu.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Prints how `ours` compares with `theirs`.
fn compare(label: &str, ours: Run, theirs: Run) {
    println!(
        "{label}: {:.2}x its CPU, {:.2}x its throughput",
        ours.cpu.as_secs_f64() / theirs.cpu.as_secs_f64(),
        theirs.wall.as_secs_f64() / ours.wall.as_secs_f64(),
    );
}

/// CPU time of this process, all threads, from its CPU clock
/// (`CLOCK_PROCESS_CPUTIME_ID`), which counts up to the moment of the call (the
/// per-thread `schedstat` files read before are brought up to date only at scheduler
/// ticks and switches).
fn process_cpu() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

async fn run_instructor(client: &Client, requests: usize, concurrency: usize) {
    futures_util::stream::iter(0..requests)
        .map(|i| {
            client
                .extract::<User>()
                .user(format!("Request {i}: Jason is 25 years old."))
                .send()
        })
        .buffer_unordered(concurrency)
        .for_each(|user| {
            let user = user.expect("an extraction");
            assert_eq!(user.age, 25);
            std::future::ready(())
        })
        .await;
}

/// The bare client: what a hand-written integration does, with the schema serialized
/// once.
struct Bare {
    http: reqwest::Client,
    url: reqwest::Url,
    schema: Box<RawValue>,
    timeout: Option<Duration>,
}

#[derive(Serialize)]
struct BareRequest<'a> {
    model: &'a str,
    messages: [BareMessage<'a>; 1],
    tools: [BareTool<'a>; 1],
    tool_choice: BareChoice<'a>,
}

#[derive(Serialize)]
struct BareMessage<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct BareTool<'a> {
    r#type: &'a str,
    function: BareFunction<'a>,
}

#[derive(Serialize)]
struct BareFunction<'a> {
    name: &'a str,
    parameters: &'a RawValue,
}

#[derive(Serialize)]
struct BareChoice<'a> {
    r#type: &'a str,
    function: BareName<'a>,
}

#[derive(Serialize)]
struct BareName<'a> {
    name: &'a str,
}

#[derive(Deserialize)]
struct BareCompletion<'a> {
    #[serde(borrow)]
    choices: Vec<BareChoiceOut<'a>>,
}

#[derive(Deserialize)]
struct BareChoiceOut<'a> {
    #[serde(borrow)]
    message: BareMessageOut<'a>,
}

#[derive(Deserialize)]
struct BareMessageOut<'a> {
    #[serde(borrow)]
    tool_calls: Vec<BareCall<'a>>,
}

#[derive(Deserialize)]
struct BareCall<'a> {
    #[serde(borrow)]
    function: BareCallFunction<'a>,
}

#[derive(Deserialize)]
struct BareCallFunction<'a> {
    #[serde(borrow)]
    arguments: std::borrow::Cow<'a, str>,
}

impl Bare {
    fn new(base_url: &str, timeouts: bool) -> Self {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "minimum": 0, "maximum": 255},
            },
            "required": ["name", "age"],
        });
        let timeout = timeouts.then_some(instructor::providers::openai::DEFAULT_TIMEOUT);
        let mut http = reqwest::Client::builder();
        if let Some(timeout) = timeout {
            http = http
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeout)
                .read_timeout(timeout);
        }
        Bare {
            timeout,
            http: http.build().expect("an HTTP client"),
            url: format!("{base_url}/chat/completions")
                .parse()
                .expect("a URL"),
            schema: RawValue::from_string(schema.to_string()).expect("JSON"),
        }
    }

    async fn extract(&self, text: &str) -> User {
        let body = BareRequest {
            model: MODEL,
            messages: [BareMessage {
                role: "user",
                content: text,
            }],
            tools: [BareTool {
                r#type: "function",
                function: BareFunction {
                    name: "User",
                    parameters: &self.schema,
                },
            }],
            tool_choice: BareChoice {
                r#type: "function",
                function: BareName { name: "User" },
            },
        };
        let body = serde_json::to_vec(&body).expect("a body");
        let mut request = self
            .http
            .post(self.url.clone())
            .bearer_auth(KEY)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.expect("an answer");
        let bytes = response.bytes().await.expect("a body");
        let completion: BareCompletion<'_> = serde_json::from_slice(&bytes).expect("a completion");
        let arguments = &completion.choices[0].message.tool_calls[0]
            .function
            .arguments;
        serde_json::from_str(arguments).expect("a User")
    }
}

async fn run_bare(bare: &Bare, requests: usize, concurrency: usize) {
    futures_util::stream::iter(0..requests)
        .map(|i| async move {
            bare.extract(&format!("Request {i}: Jason is 25 years old."))
                .await
        })
        .buffer_unordered(concurrency)
        .for_each(|user| {
            assert_eq!(user.age, 25);
            std::future::ready(())
        })
        .await;
}

/// The server process: answers every request with [`REPLY`] (keep-alive), until its
/// stdin closes.
fn serve() {
    use hyper::body::{Body, Incoming};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        println!("{port}");
        std::io::stdout().flush().expect("stdout");
        // Ends the process when the parent closes stdin (or dies).
        std::thread::spawn(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0);
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|request: hyper::Request<Incoming>| async move {
                    // Read the whole request body before answering.
                    let mut body = request.into_body();
                    while let Some(frame) =
                        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx))
                            .await
                    {
                        if frame.is_err() {
                            break;
                        }
                    }
                    let response = hyper::Response::builder()
                        .header("content-type", "application/json")
                        .header("x-request-id", "req_bench")
                        .body(REPLY.to_owned())
                        .expect("a response");
                    Ok::<_, std::convert::Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
