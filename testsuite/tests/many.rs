//! `client.extract_many`: many extractions of one type in one run, over real HTTP to
//! the fake provider. The fake answers each request from its own text (the document
//! number in it), so results can be checked per id whatever order requests arrive in.
//! Pacing is checked by what the server saw (how many at once, which requests came,
//! and that a held request came no earlier than the wait it was held for: a lower
//! bound, which a slow machine cannot break), never by an upper time bound.

use futures_util::StreamExt;
use instructor::Error;
use instructor::client::{ItemResult, Progress};
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::openai::ChatCompletion;
use instructor::providers::testing::{FakeProvider, RecordedRequest, Reply};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "../../examples/many.rs"]
#[allow(dead_code)]
mod many_example;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Extract)]
struct Doc {
    n: u64,
}

/// The document number in a request (`doc-<n>`).
fn doc_number(request: &RecordedRequest) -> Option<u64> {
    let body = String::from_utf8_lossy(request.body());
    let at = body.find("doc-")? + 4;
    body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// The answer to document `n`.
fn answer(n: u64) -> ChatCompletion {
    ChatCompletion::tool_call("Doc", format!(r#"{{"n": {n}}}"#))
}

/// A server that answers each document with `reply(n)`, and records when each came.
struct Server {
    fake: FakeProvider,
    arrivals: Arc<Mutex<Vec<(u64, Instant)>>>,
}

impl Server {
    async fn start(reply: impl Fn(u64) -> Reply + Send + Sync + 'static) -> Self {
        let fake = FakeProvider::start().await;
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let seen = arrivals.clone();
        fake.set_guard(move |request| {
            let n = doc_number(request)?;
            seen.lock().expect("arrivals").push((n, Instant::now()));
            Some(reply(n))
        });
        Server { fake, arrivals }
    }

    fn client(&self) -> Client {
        let provider = OpenAi::new(OpenAiConfig::new(self.fake.base_url()).with_api_key("sk-test"));
        Client::new(provider)
            .with_model("gpt-4o-mini")
            .with_max_retries(0)
    }

    fn arrivals(&self) -> Vec<(u64, Instant)> {
        self.arrivals.lock().expect("arrivals").clone()
    }

    fn arrived(&self) -> Vec<u64> {
        let mut numbers: Vec<u64> = self.arrivals().into_iter().map(|(n, _)| n).collect();
        numbers.sort_unstable();
        numbers
    }
}

fn docs(count: u64) -> impl Iterator<Item = (u64, String)> + Send + 'static {
    (0..count).map(|n| (n, format!("doc-{n}")))
}

async fn collect(mut run: instructor::client::Many<Doc, u64>) -> Vec<ItemResult<Doc, u64>> {
    let mut items = Vec::new();
    while let Some(item) = run.next().await {
        items.push(item);
    }
    items
}

fn temp_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "instructor-many-{}-{name}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// The lines of a resume file that parse, as JSON.
fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_requests_than_the_concurrency_are_in_flight_at_the_server() {
    let server = Server::start(|n| answer(n).reply().delay(Duration::from_millis(150))).await;
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(24), |e, text| e.user(text))
            .concurrency(4),
    )
    .await;
    assert_eq!(items.len(), 24);
    assert!(items.iter().all(|item| item.result.is_ok()));
    // Each reply waits 150 ms at the server, so the four slots fill up.
    assert_eq!(server.fake.max_in_flight(), 4);
    assert_eq!(server.arrived(), (0..24).collect::<Vec<_>>());
}

/// Document `n` of 4 answered after `(3 - n) * 150` ms: the first is the slowest.
fn slowest_first(n: u64) -> Reply {
    answer(n)
        .reply()
        .delay(Duration::from_millis(150 * (3 - n.min(3))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_come_as_they_finish_by_default() {
    let server = Server::start(slowest_first).await;
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(4), |e, text| e.user(text))
            .concurrency(4),
    )
    .await;
    let ids: Vec<u64> = items.iter().map(|item| item.id).collect();
    assert_eq!(ids, [3, 2, 1, 0]);
    for item in &items {
        assert_eq!(item.result.as_ref().map(|doc| doc.n).ok(), Some(item.id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_results_come_in_input_order() {
    let server = Server::start(slowest_first).await;
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(4), |e, text| e.user(text))
            .concurrency(4)
            .ordered(),
    )
    .await;
    let ids: Vec<u64> = items.iter().map(|item| item.id).collect();
    assert_eq!(ids, [0, 1, 2, 3]);
    for item in &items {
        assert_eq!(item.result.as_ref().map(|doc| doc.n).ok(), Some(item.id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_mode_starts_no_item_further_ahead_than_the_concurrency() {
    // Document 0 is slow: with a window of 2, document 2 cannot start before 0 is out.
    let server = Server::start(|n| {
        let delay = if n == 0 { 400 } else { 0 };
        answer(n).reply().delay(Duration::from_millis(delay))
    })
    .await;
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(5), |e, text| e.user(text))
            .concurrency(2)
            .ordered(),
    )
    .await;
    let ids: Vec<u64> = items.iter().map(|item| item.id).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    let order: Vec<u64> = server.arrivals().into_iter().map(|(n, _)| n).collect();
    // The first two start together, so either may reach the server first.
    let mut first = order.get(..2).unwrap_or_default().to_vec();
    first.sort_unstable();
    assert_eq!(first, [0, 1], "{order:?}");
    assert_eq!(server.fake.max_in_flight(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_item_is_reported_with_its_id_and_the_others_go_on() {
    let server = Server::start(|n| match n {
        2 => ChatCompletion::tool_call("Doc", r#"{"n": "not a number"}"#).reply(),
        4 => Reply::json(
            400,
            serde_json::json!({"error": {"message": "bad document", "type": "invalid_request_error"}}),
        ),
        n => answer(n).reply(),
    })
    .await;
    let mut seen = Vec::new();
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(6), |e, text| e.user(text))
            .concurrency(3)
            .on_progress(move |p: &Progress| seen.push((p.done, p.failed))),
    )
    .await;
    let by_id: HashMap<u64, &ItemResult<Doc, u64>> =
        items.iter().map(|item| (item.id, item)).collect();
    assert_eq!(by_id.len(), 6);
    assert!(
        matches!(by_id[&2].result, Err(Error::Parse { .. })),
        "{:?}",
        by_id[&2].result
    );
    assert_eq!(by_id[&2].attempts, 1);
    assert!(
        matches!(by_id[&4].result, Err(Error::Provider { .. })),
        "{:?}",
        by_id[&4].result
    );
    for n in [0, 1, 3, 5] {
        assert_eq!(by_id[&n].result.as_ref().ok(), Some(&Doc { n }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_every_item_once() {
    let server = Server::start(|n| match n {
        1 => ChatCompletion::tool_call("Doc", "{}").usage(5, 5).reply(),
        n => answer(n).usage(10, 5).reply(),
    })
    .await;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let record = reports.clone();
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(5), |e, text| e.user(text))
            .concurrency(2)
            .on_progress(move |p| record.lock().expect("reports").push(*p)),
    )
    .await;
    assert_eq!(items.len(), 5);
    let reports = reports.lock().expect("reports");
    assert_eq!(reports.len(), 5);
    let last = reports.last().expect("a report");
    assert_eq!((last.done, last.failed, last.in_flight), (4, 1, 0));
    assert_eq!(last.tokens, 4 * 15 + 10);
    assert!(reports.iter().all(|p| p.in_flight <= 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_token_budget_ends_the_remaining_items_unsent() {
    let server = Server::start(|n| answer(n).usage(80, 20).reply()).await;
    let items = collect(
        server
            .client()
            .extract_many::<Doc, _, _>(docs(6), |e, text| e.user(text))
            .concurrency(1)
            .ordered()
            .max_total_tokens(250),
    )
    .await;
    // 100 tokens each: after three, 300 >= 250, and the other three are not sent.
    assert_eq!(server.arrived(), [0, 1, 2]);
    for item in &items[..3] {
        assert!(item.result.is_ok());
    }
    for item in &items[3..] {
        match &item.result {
            Err(Error::BudgetExhausted { used, limit, .. }) => {
                assert_eq!((*used, *limit), (300, 250));
            }
            other => panic!("item {}: {other:?}", item.id),
        }
        assert_eq!(item.attempts, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_space_the_requests_at_the_server() {
    let server = Server::start(|n| answer(n).reply()).await;
    let mut run = server
        .client()
        .extract_many::<Doc, _, _>(docs(3), |e, text| e.user(text))
        .concurrency(3)
        .requests_per_minute(150); // one every 400 ms
    let mut count = 0;
    while let Some(item) = run.next().await {
        assert!(item.result.is_ok());
        count += 1;
    }
    assert_eq!(count, 3);
    assert_eq!(run.progress().rate_limited_waits, 2);
    let mut times: Vec<Instant> = server.arrivals().into_iter().map(|(_, at)| at).collect();
    times.sort();
    for pair in times.windows(2) {
        // A lower bound only: the limiter waits at least the interval.
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(350),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_requests_left_in_the_headers_holds_the_next_request_until_the_reset() {
    // The first answer says: no request left, the window starts over in 800 ms.
    let server = Server::start(|n| {
        let reply = answer(n).reply();
        if n == 0 {
            reply
                .header("x-ratelimit-remaining-requests", "0")
                .header("x-ratelimit-reset-requests", "800ms")
        } else {
            reply.header("x-ratelimit-remaining-requests", "100")
        }
    })
    .await;
    let mut run = server
        .client()
        .extract_many::<Doc, _, _>(docs(3), |e, text| e.user(text))
        .concurrency(1)
        .ordered();
    let mut answered = Vec::new();
    while let Some(item) = run.next().await {
        answered.push((item.id, Instant::now()));
    }
    assert_eq!(run.progress().rate_limited_waits, 1);
    let arrivals = server.arrivals();
    assert_eq!(
        arrivals.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    // Held after the first answer for the reset; the third, with requests left, not.
    assert!(arrivals[1].1 - answered[0].1 >= Duration::from_millis(750));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_minute_hold_requests_while_the_bucket_refills() {
    // 6000 tokens a minute is 100 a second; each answer takes 6050 tokens, so after the
    // first the bucket is 50 below empty and the next request waits half a second.
    let server = Server::start(|n| answer(n).usage(6_000, 50).reply()).await;
    let mut run = server
        .client()
        .extract_many::<Doc, _, _>(docs(2), |e, text| e.user(text))
        .concurrency(1)
        .tokens_per_minute(6_000);
    let mut done = Vec::new();
    while let Some(item) = run.next().await {
        done.push(Instant::now());
        assert!(item.result.is_ok());
    }
    assert_eq!(run.progress().rate_limited_waits, 1);
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 2);
    assert!(arrivals[1].1 - done[0] >= Duration::from_millis(450));
}

#[tokio::test(flavor = "current_thread")]
async fn rate_limit_headers_reach_the_response_whole_and_streamed() {
    let fake = FakeProvider::start().await;
    let client = Client::new(OpenAi::new(
        OpenAiConfig::new(fake.base_url()).with_api_key("sk-test"),
    ))
    .with_model("gpt-4o-mini");
    let headers = [
        ("x-ratelimit-remaining-requests", "499"),
        ("x-ratelimit-remaining-tokens", "149000"),
        ("x-ratelimit-reset-requests", "6m0s"),
        ("x-ratelimit-reset-tokens", "20ms"),
    ];
    let expected = instructor::chat::RateLimits {
        requests_remaining: Some(499),
        tokens_remaining: Some(149_000),
        requests_reset: Some(Duration::from_secs(360)),
        tokens_reset: Some(Duration::from_millis(20)),
    };
    let with = |mut reply: Reply| {
        for (name, value) in headers {
            reply = reply.header(name, value);
        }
        reply
    };
    fake.push(with(answer(1).reply()));
    let done = client
        .extract::<Doc>()
        .user("doc-1")
        .with_completion()
        .await
        .expect("whole");
    assert_eq!(done.response.rate_limits.as_deref(), Some(&expected));

    fake.push(with(
        ChatCompletion::tool_call_fragments("Doc", [r#"{"n""#, ": 2}"]).sse_reply(),
    ));
    let mut updates = client.extract::<Doc>().user("doc-2").partial();
    let mut streamed = None;
    while let Some(update) = updates.next().await {
        if let instructor::client::PartialUpdate::Done(done) = update.expect("an update") {
            streamed = Some(done.response.rate_limits.map(|limits| *limits));
        }
    }
    assert_eq!(streamed, Some(Some(expected)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_run_skips_the_ids_already_done_and_redoes_failures_and_torn_lines() {
    let path = temp_file("resume");
    std::fs::write(
        &path,
        concat!(
            "{\"id\":0,\"ok\":true,\"value\":{\"n\":0},\"usage\":{},\"attempts\":1}\n",
            "{\"id\":1,\"ok\":true,\"value\":{\"n\":1},\"usage\":{},\"attempts\":1}\n",
            "{\"id\":2,\"ok\":false,\"error\":\"timed out\",\"attempts\":1}\n",
            "{\"id\":3,\"ok\":true,\"val",
        ),
    )
    .expect("written");
    let server = Server::start(|n| answer(n).reply()).await;
    let run = server
        .client()
        .extract_many::<Doc, _, _>(docs(5), |e, text| e.user(text))
        .resume_jsonl(&path)
        .expect("the resume file");
    let items = collect(run).await;
    assert_eq!(server.arrived(), [2, 3, 4]);
    let mut ids: Vec<u64> = items.iter().map(|item| item.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [2, 3, 4]);
    // Every id has exactly one value line, and the value is the document's.
    let mut values: HashMap<u64, u32> = HashMap::new();
    for line in lines(&path).iter().filter(|line| line["ok"] == true) {
        let id = line["id"].as_u64().expect("an id");
        assert_eq!(line["value"]["n"].as_u64(), Some(id));
        *values.entry(id).or_default() += 1;
    }
    assert_eq!(values, (0..5).map(|n| (n, 1)).collect());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_resume_file_that_cannot_be_opened_is_a_typed_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();
    let client = Client::new(OpenAi::new(OpenAiConfig::new("http://127.0.0.1:9")));
    let dir = std::env::temp_dir();
    let error = client
        .extract_many::<Doc, u64, String>(docs(1), |e, text| e.user(text))
        .resume_jsonl(&dir)
        .expect_err("a directory");
    assert_eq!(error.path, dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_is_send_static_and_runs_inside_a_spawned_task() {
    let server = Server::start(|n| answer(n).reply()).await;
    let run = server
        .client()
        .extract_many::<Doc, _, _>(docs(10), |e, text| e.user(text))
        .concurrency(3);
    let handle = tokio::spawn(async move {
        let mut run = run;
        let mut total = 0;
        while let Some(item) = run.next().await {
            total += item.result.map(|doc| doc.n).unwrap_or(1_000);
        }
        total
    });
    assert_eq!(handle.await.expect("the task"), (0..10).sum::<u64>());
}

/// The environment variables of the child run of the kill test.
const CHILD_URL: &str = "INSTRUCTOR_MANY_CHILD_URL";
const CHILD_FILE: &str = "INSTRUCTOR_MANY_CHILD_FILE";
const CHILD_COUNT: u64 = 60;

/// The child of the kill test: the example's run against the parent's server. Ignored
/// unless started by that test (with its environment).
#[tokio::test(flavor = "current_thread")]
#[ignore = "run as a child process by a_killed_run_restarted_with_the_same_file_does_every_item_once"]
async fn kill_test_child_run() {
    let (Ok(url), Ok(file)) = (std::env::var(CHILD_URL), std::env::var(CHILD_FILE)) else {
        return;
    };
    let client = Client::new(OpenAi::new(OpenAiConfig::new(url).with_api_key("sk-test")))
        .with_model("gpt-4o-mini");
    many_example::run(&client, CHILD_COUNT, Path::new(&file), false)
        .await
        .expect("the run");
}

fn start_child(url: &str, file: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "kill_test_child_run",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, url)
        .env(CHILD_FILE, file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the child starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_restarted_with_the_same_file_does_every_item_once() {
    let path = temp_file("killed");
    let fake = FakeProvider::start().await;
    let slow = Arc::new(Mutex::new(true));
    let is_slow = slow.clone();
    fake.set_guard(move |request| {
        let reply = many_example::offline_answer(request)?;
        let delay = if *is_slow.lock().expect("slow") {
            300
        } else {
            0
        };
        Some(reply.delay(Duration::from_millis(delay)))
    });
    let url = fake.base_url();

    let mut child = start_child(&url, &path);
    // Wait (on the file, not the clock) for some lines, then SIGKILL mid-run.
    loop {
        let written = lines(&path).len();
        if written >= 20 {
            break;
        }
        if let Some(status) = child.try_wait().expect("the child") {
            panic!("the child ended before it was killed: {status}, {written} lines");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("the killed child");
    let before = lines(&path).len();
    assert!(
        before < CHILD_COUNT as usize,
        "the run was killed mid-way: {before} lines"
    );
    // A kill mid-write leaves a torn last line; make sure one is there to be ignored.
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        file.write_all(b"{\"id\":59,\"ok\":true,\"value\":{\"numb")
            .expect("a torn line");
    }
    let requests_before = fake.requests().len();

    *slow.lock().expect("slow") = false;
    let status = start_child(&url, &path)
        .wait()
        .expect("the restarted child");
    assert!(status.success(), "{status}");

    let all = lines(&path);
    let mut values: HashMap<u64, u32> = HashMap::new();
    for line in &all {
        assert_eq!(line["ok"], true, "{line}");
        let id = line["id"].as_u64().expect("an id");
        let invoice: many_example::Invoice =
            serde_json::from_value(line["value"].clone()).expect("an invoice");
        assert_eq!(invoice.number, format!("INV-{id:05}"));
        assert_eq!(invoice.total_cents, many_example::invoice_total(id));
        *values.entry(id).or_default() += 1;
    }
    assert_eq!(values, (0..CHILD_COUNT).map(|n| (n, 1)).collect());
    // The restart asked only for what was not written before the kill.
    let asked_again = fake.requests().len() - requests_before;
    assert_eq!(asked_again, CHILD_COUNT as usize - before);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "current_thread")]
async fn anthropic_rate_limit_headers_are_read_with_their_reset_times() {
    use instructor::providers::anthropic::{Anthropic, AnthropicConfig};
    use instructor::providers::testing::anthropic::Message;
    let fake = FakeProvider::start().await;
    let client = Client::new(Anthropic::new(
        AnthropicConfig::new(fake.base_url()).with_api_key("sk-ant-test"),
    ))
    .with_model("claude-sonnet-4-5");
    fake.push(
        Message::tool_use("Doc", r#"{"n": 1}"#)
            .reply()
            .header("anthropic-ratelimit-requests-remaining", "0")
            .header("anthropic-ratelimit-requests-reset", "2000-01-01T00:00:00Z")
            .header("anthropic-ratelimit-tokens-remaining", "not a number")
            .header("anthropic-ratelimit-tokens-reset", "2999-01-01T00:00:00Z"),
    );
    let done = client
        .extract::<Doc>()
        .user("doc-1")
        .with_completion()
        .await
        .expect("whole");
    let limits = done.response.rate_limits.expect("rate limits");
    assert_eq!(limits.requests_remaining, Some(0));
    // A reset in the past is no wait; one centuries ahead is bounded to a day.
    assert_eq!(limits.requests_reset, Some(Duration::ZERO));
    assert_eq!(limits.tokens_remaining, None);
    assert_eq!(
        limits.tokens_reset,
        Some(instructor::chat::RateLimits::MAX_RESET)
    );
}
