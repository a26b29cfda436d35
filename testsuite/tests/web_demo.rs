//! The web demo (`examples/web`) end to end in headless Chromium: its server runs on a
//! free port against the local fake provider, Chromium (driven over WebDriver by
//! chromedriver) submits a text, and the page must show the title complete while the
//! section list still grows, the score only whole (the scripted answer cuts `87` between
//! its digits), the re-ask of the first, invalid answer, and the final validated report.
//! A screenshot is saved as `target/web_demo.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them the test fails and says how to install them. `CHROMIUM` and `CHROMEDRIVER` may
//! name other binaries.

#[path = "../../examples/web/app.rs"]
#[allow(dead_code)]
mod app;
#[path = "../../examples/web/report.rs"]
#[allow(dead_code)]
mod report;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const INSTALL: &str = "install Debian's Chromium and its driver: `apt-get install -y chromium chromium-driver` \
(as root; .ci/run does it), or set CHROMIUM and CHROMEDRIVER to the binaries";

/// Records, after every change of the page, what the test asserts on: each score shown,
/// the section counts seen while the title is complete and the list still streaming, and
/// any score shown while its field was not marked complete.
const OBSERVER: &str = r#"
window.__seen = { scores: [], countsWhileTitleDone: [], scoreNotComplete: [], titleStates: [] };
const look = () => {
  const seen = window.__seen;
  const score = document.getElementById("score-value").textContent;
  if (score !== "" && seen.scores[seen.scores.length - 1] !== score) seen.scores.push(score);
  if (score !== "" && document.getElementById("score").dataset.state !== "complete") seen.scoreNotComplete.push(score);
  const title = document.getElementById("title").dataset.state;
  if (seen.titleStates[seen.titleStates.length - 1] !== title) seen.titleStates.push(title);
  const sections = document.getElementById("sections");
  const count = sections.querySelectorAll("li").length;
  if (title === "complete" && sections.dataset.state === "streaming" && count > 0
      && !seen.countsWhileTitleDone.includes(count)) seen.countsWhileTitleDone.push(count);
};
new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
"#;

/// Ends the child process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_owned())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Starts chromedriver and opens a headless Chromium session through it.
async fn browser() -> (Client, Killed) {
    let chromium = binary("CHROMIUM", "chromium");
    let chromium_path = match Command::new("sh")
        .arg("-c")
        .arg(format!("command -v '{chromium}'"))
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => panic!("`{chromium}` was not found: {INSTALL}"),
    };
    let driver_bin = binary("CHROMEDRIVER", "chromedriver");
    let port = free_port();
    let driver = Command::new(&driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("`{driver_bin}` could not be started ({error}): {INSTALL}"));
    let driver = Killed(driver);

    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium_path,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1000,1500"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = String::new();
    // chromedriver takes a moment to listen; try for a while before giving up.
    for _ in 0..100 {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return (client, driver),
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no browser session through `{driver_bin}` at {url}: {last_error}");
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css} not on the page: {error}"))
        .text()
        .await
        .expect("element text")
}

async fn run(client: &Client, base: &str) {
    client.goto(base).await.expect("opening the page");
    // Wait for the page to load its configuration (it fills the text box).
    let mut loaded = false;
    for _ in 0..100 {
        if text(client, "#backend").await.contains("fake provider") {
            loaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded, "the page did not load /config");
    client
        .execute(OBSERVER, vec![])
        .await
        .expect("installing the observer");

    let textarea = client.find(Locator::Id("text")).await.expect("text box");
    textarea.clear().await.expect("clearing the text box");
    textarea
        .send_keys("Platform team, Q3: billing moved, latency down, two migrations slipped.")
        .await
        .expect("typing");
    client
        .find(Locator::Id("submit"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submitting");

    let mut phase = String::new();
    let mut streaming_shot = false;
    for _ in 0..600 {
        let status = client
            .execute(
                "return [document.getElementById('status').dataset.phase, \
                 document.querySelectorAll('#sections li').length]",
                vec![],
            )
            .await
            .expect("reading the status");
        phase = status[0].as_str().unwrap_or_default().to_owned();
        if phase == "done" || phase == "failed" {
            break;
        }
        // One screenshot mid-stream too, for inspection.
        if !streaming_shot && status[1].as_u64() >= Some(3) {
            streaming_shot = true;
            if let Ok(png) = client.screenshot().await {
                let _ = std::fs::create_dir_all(target_dir());
                let _ = std::fs::write(target_dir().join("web_demo_streaming.png"), png);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = text(client, "#events").await;
    assert_eq!(phase, "done", "the page did not finish; events: {events}");

    // The first answer (score 140) was rejected and re-asked, and the page said so.
    assert!(
        events.contains("attempt 2") && events.contains("score") && events.contains("140"),
        "the re-ask is not shown: {events:?}"
    );

    let seen = client
        .execute("return window.__seen", vec![])
        .await
        .expect("reading the observations");
    let strings = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} missing in {seen}"))
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };

    // Numbers appear only whole: the scripted answers cut 140 and 87 between digits.
    let scores = strings("scores");
    assert_eq!(scores, ["140", "87"], "scores shown: {scores:?}");
    assert!(
        strings("scoreNotComplete").is_empty(),
        "a score was shown before its field was complete: {seen}"
    );

    // The title went from streaming to complete (twice: once per attempt) ...
    let titles = strings("titleStates");
    assert!(
        titles
            .windows(2)
            .any(|pair| pair[0] == "streaming" && pair[1] == "complete"),
        "the title was never seen streaming, then complete: {titles:?}"
    );
    // ... and was complete while the list of sections still grew, one item at a time.
    let counts = strings("countsWhileTitleDone");
    assert!(
        ["1", "2", "3", "4", "5"]
            .iter()
            .all(|n| counts.iter().any(|c| c == n)),
        "sections seen while the title was done and the list streaming: {counts:?}"
    );

    // The final, validated value.
    let value: Value =
        serde_json::from_str(&text(client, "#final").await).expect("the final value is JSON");
    assert_eq!(
        value["title"],
        "Platform team Q3: faster billing, fewer incidents"
    );
    assert_eq!(value["score"], 87);
    assert_eq!(value["sections"].as_array().map(Vec::len), Some(5));
    assert_eq!(text(client, "#score-value").await, "87");
    let states = client
        .execute(
            "return [...document.querySelectorAll('.field')].map(f => f.dataset.state)",
            vec![],
        )
        .await
        .expect("field states");
    assert_eq!(
        states,
        json!(["complete", "complete", "complete", "complete"])
    );
    assert!(text(client, "#final-note").await.contains("2 attempts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_renders_the_extraction_as_it_streams() {
    let backend = Arc::new(report::Backend::offline(Duration::from_millis(40)));
    let (addr, serve) = app::bind(backend, 0).await.expect("binding the demo");
    let server = tokio::spawn(serve);
    let base = format!("http://{addr}/");

    let (client, _driver) = browser().await;
    let outcome = tokio::spawn({
        let client = client.clone();
        async move { run(&client, &base).await }
    })
    .await;

    // The screenshot is taken whatever happened, for inspection.
    let shot = target_dir().join("web_demo.png");
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::create_dir_all(target_dir());
        if std::fs::write(&shot, png).is_ok() {
            println!("screenshot: {}", shot.display());
        }
    }
    let _ = client.close().await;
    server.abort();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Bad requests get a readable error, not a stream.
#[tokio::test]
async fn an_empty_or_oversized_text_is_refused() {
    let backend = Arc::new(report::Backend::offline(Duration::ZERO));
    let (addr, serve) = app::bind(backend, 0).await.expect("binding the demo");
    let server = tokio::spawn(serve);
    for (query, expected) in [
        ("text=%20".to_owned(), "empty"),
        (
            format!("text={}", "a".repeat(app::MAX_TEXT_CHARS + 1)),
            "longer",
        ),
    ] {
        let (status, body) = get(addr, &format!("/extract?{query}")).await;
        assert!(status.contains("400"), "{status}");
        assert!(body.contains(expected), "{body}");
    }
    server.abort();
}

/// Offline, each question has its own scripted answers: two asked at once both see the
/// re-ask and end with the valid report (the event stream, read without a browser).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_asked_at_once_each_get_their_answers() {
    let backend = Arc::new(report::Backend::offline(Duration::from_millis(1)));
    let (addr, serve) = app::bind(backend, 0).await.expect("binding the demo");
    let server = tokio::spawn(serve);
    let (first, second) = tokio::join!(
        get(addr, "/extract?text=one"),
        get(addr, "/extract?text=two")
    );
    for (status, body) in [first, second] {
        assert!(status.contains("200"), "{status}");
        let events: Vec<(&str, Value)> = body
            .split("\n\n")
            .filter_map(|event| {
                let name = event.lines().find_map(|l| l.strip_prefix("event: "))?;
                let data = event.lines().find_map(|l| l.strip_prefix("data: "))?;
                Some((name, serde_json::from_str(data).expect("JSON data")))
            })
            .collect();
        let names: Vec<&str> = events.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names.iter().filter(|n| **n == "restarted").count(),
            1,
            "{names:?}"
        );
        let (last, done) = events.last().expect("events");
        assert_eq!(*last, "done", "{body}");
        assert_eq!(done["attempts"], 2);
        assert_eq!(done["value"]["score"], 87);
        // Every partial carries the state of each field it has.
        for (name, partial) in &events {
            if *name == "partial" {
                let fields = partial.as_object().expect("an object");
                for key in fields.keys().filter(|k| *k != "$state") {
                    assert!(partial["$state"][key].is_string(), "{partial}");
                }
            }
        }
    }
    server.abort();
}

/// A minimal HTTP/1.0 GET, to read status line and body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connecting");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("writing");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reading");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}
