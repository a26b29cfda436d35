//! The `instructor` binary run as a process against the fake provider (a real local
//! HTTP server that replays scripted replies): stdin and file input, JSON out, a
//! re-ask on a schema violation, `--stream` into a pipe, and the exit code of each kind
//! of failure.

use instructor_providers::testing::openai::{ChatCompletion, error_body};
use instructor_providers::testing::{FakeProvider, RecordedRequest, Reply};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const KEY: &str = "sk-cli-test-0123456789";

/// A fresh directory for one test's files, removed when the test ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch_dir() -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "instructor-cli-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    Scratch(dir)
}

fn person_schema() -> Value {
    json!({
        "title": "Person",
        "description": "A person named in the text.",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "pets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"kind": {"enum": ["dog", "cat"]}, "name": {"type": "string"}},
                    "required": ["kind", "name"]
                }
            }
        },
        "required": ["name", "age", "pets"]
    })
}

const VALID: &str = r#"{"name": "Ada", "age": 36, "pets": [{"kind": "dog", "name": "Rex"}]}"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a file written");
    path
}

fn schema_file(dir: &Path) -> PathBuf {
    write(dir, "person.json", &person_schema().to_string())
}

/// The binary with a clean environment: only what the test gives it.
fn instructor(server: &FakeProvider) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_instructor"));
    command
        .env_clear()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", server.base_url())
        .stdin(Stdio::null());
    command
}

/// Runs `command` with `stdin` (off the async runtime, which serves the fake).
async fn run(mut command: Command, stdin: Option<&str>) -> Output {
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        if stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        if let Some(text) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            // The binary may exit before reading its input (a usage error): a closed
            // pipe is then no failure of the test.
            if let Err(error) = pipe.write_all(text.as_bytes()) {
                assert_eq!(
                    error.kind(),
                    std::io::ErrorKind::BrokenPipe,
                    "stdin: {error}"
                );
            }
        }
        child.wait_with_output().expect("the binary ends")
    })
    .await
    .expect("the blocking task")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn last_message(request: &RecordedRequest) -> String {
    let body = request.json().expect("a JSON body");
    body["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .expect("a message")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_and_stdin_give_the_json_value_on_stdout() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Person", VALID).reply());
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini"]);
    let output = run(command, Some("Ada is 36 and has a dog, Rex.")).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout_json(&output),
        serde_json::from_str::<Value>(VALID).expect("JSON")
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = requests[0].json().expect("body");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["tools"][0]["function"]["name"], "Person");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["pets"]["items"]["properties"]["kind"]
            ["enum"],
        json!(["dog", "cat"])
    );
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["content"], "Ada is 36 and has a dog, Rex.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_input_with_a_mode_a_system_message_and_an_output_file() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::content(format!("Sure:\n```json\n{VALID}\n```")).reply());
    let dir = scratch_dir();
    let input = write(&dir, "input.txt", "Ada (36) walks Rex, her dog.");
    let out = dir.join("out.json");
    let mut command = instructor(&server);
    command
        .env_remove("OPENAI_BASE_URL")
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini", "--mode", "md-json"])
        .args(["--system", "Find the person."])
        .args(["--base-url", &server.base_url()])
        .arg("--output")
        .arg(&out)
        .arg(&input);
    let output = run(command, None).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "the value went to the file");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the output file"))
            .expect("JSON in the file");
    assert_eq!(written, serde_json::from_str::<Value>(VALID).expect("JSON"));
    let body = server.requests()[0].json().expect("body").clone();
    assert!(body.get("tools").is_none(), "md-json sends no tool");
    let messages = body["messages"].to_string();
    assert!(messages.contains("Find the person."), "{messages}");
    assert!(messages.contains("Ada (36) walks Rex"), "{messages}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_violation_is_re_asked_and_the_second_answer_printed() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call(
            "Person",
            r#"{"name": "Ada", "age": -36, "pets": [{"kind": "parrot", "name": "Polly"}]}"#,
        )
        .reply(),
    );
    server.push(ChatCompletion::tool_call("Person", VALID).reply());
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args([
            "--model",
            "openai/gpt-4o-mini",
            "--max-retries",
            "1",
            "--compact",
        ]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        serde_json::to_string(&serde_json::from_str::<Value>(VALID).expect("JSON"))
            .expect("compact")
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let reask = last_message(&requests[1]);
    assert!(reask.contains("age:"), "{reask}");
    assert!(reask.contains("pets[0].kind:"), "{reask}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn still_invalid_after_the_retries_exits_5_naming_the_paths() {
    let server = FakeProvider::start().await;
    let wrong = r#"{"name": "Ada", "age": -1, "pets": []}"#;
    server.push(ChatCompletion::tool_call("Person", wrong).reply());
    server.push(ChatCompletion::tool_call("Person", wrong).reply());
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini", "--max-retries", "1"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(message.contains("age: "), "{message}");
    assert!(message.contains("minimum"), "{message}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_exits_3_before_anything_is_sent() {
    let server = FakeProvider::start().await;
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .env_remove("OPENAI_API_KEY")
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("OPENAI_API_KEY"),
        "{}",
        stderr(&output)
    );
    assert!(server.requests().is_empty());

    // Another provider names its own variable.
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "anthropic/claude-sonnet-4-5"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ANTHROPIC_API_KEY"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_schema_or_bad_usage_exits_2_and_io_errors_exit_6() {
    let server = FakeProvider::start().await;
    let dir = scratch_dir();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec![
                "--schema".into(),
                write(&dir, "bad-type.json", r#"{"type": "strng"}"#)
                    .display()
                    .to_string(),
            ],
            2,
            "strng",
        ),
        (
            vec![
                "--schema".into(),
                write(&dir, "not-json.json", "{type: object")
                    .display()
                    .to_string(),
            ],
            2,
            "not JSON",
        ),
        (
            vec![
                "--schema".into(),
                write(&dir, "list.json", "[1, 2]").display().to_string(),
            ],
            2,
            "must be an object",
        ),
        (
            vec![
                "--schema".into(),
                dir.join("absent.json").display().to_string(),
            ],
            6,
            "absent.json",
        ),
        (
            vec![
                "--schema".into(),
                schema_file(&dir).display().to_string(),
                dir.join("no-such-input.txt").display().to_string(),
            ],
            6,
            "no-such-input.txt",
        ),
        (
            vec![
                "--schema".into(),
                schema_file(&dir).display().to_string(),
                "--mode".into(),
                "telepathy".into(),
            ],
            2,
            "telepathy",
        ),
    ];
    for (args, expected, mentions) in cases {
        let mut command = instructor(&server);
        command
            .arg("extract")
            .args(&args)
            .args(["--model", "openai/gpt-4o-mini"]);
        let output = run(command, Some("Ada ...")).await;
        assert_eq!(code(&output), expected, "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(mentions),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
    // A model without a provider, and a strict mode the schema cannot be sent in.
    let maps = write(
        &dir,
        "maps.json",
        r#"{"type": "object", "properties": {"scores": {"type": "object", "additionalProperties": {"type": "integer"}}}}"#,
    );
    for args in [
        vec![
            "--schema".into(),
            schema_file(&dir).display().to_string(),
            "--model".into(),
            "gpt-4o-mini".into(),
        ],
        vec![
            "--schema".into(),
            maps.display().to_string(),
            "--model".into(),
            "openai/gpt-4o-mini".into(),
            "--mode".into(),
            "json-schema".into(),
        ],
    ] {
        let mut command = instructor(&server);
        command.arg("extract").args(&args);
        let output = run(command, Some("Ada ...")).await;
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_exit_4_without_the_key() {
    let server = FakeProvider::start().await;
    let dir = scratch_dir();
    // 401: not retried.
    server.push(Reply::json(
        401,
        error_body(
            &format!("Incorrect API key provided: {KEY}"),
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
    ));
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(stderr(&output).contains("401"), "{}", stderr(&output));
    assert!(!stderr(&output).contains(KEY), "the key is never printed");
    assert_eq!(server.requests().len(), 1);

    // 500: retried by the transport policy, then given up.
    for _ in 0..3 {
        server.push(
            Reply::json(
                500,
                error_body("The server had an error", "server_error", None),
            )
            .header("retry-after", "0"),
        );
    }
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(stderr(&output).contains("500"), "{}", stderr(&output));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_into_a_pipe_writes_only_the_final_json() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call_fragments(
            "Person",
            [
                r#"{"name": "Ad"#,
                r#"a", "age": 3"#,
                r#"6, "pets": [{"kind": "dog", "#,
                r#""name": "Rex"}]}"#,
            ],
        )
        .sse_reply(),
    );
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .args(["extract", "--stream", "--schema"])
        .arg(schema_file(&dir))
        .args(["--model", "openai/gpt-4o-mini"]);
    let output = run(command, Some("Ada ...")).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains('\x1b'),
        "no terminal codes in a pipe: {text:?}"
    );
    assert!(
        !stderr(&output).contains('\x1b'),
        "nor on stderr when it is not a terminal"
    );
    assert_eq!(
        stdout_json(&output),
        serde_json::from_str::<Value>(VALID).expect("JSON")
    );
    let expected = serde_json::to_string_pretty(&stdout_json(&output)).expect("pretty") + "\n";
    assert_eq!(text, expected, "the final JSON alone, once");
    let body = server.requests()[0].json().expect("body").clone();
    assert_eq!(body["stream"], true, "the answer was streamed");
}

#[test]
fn help_lists_the_exit_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_instructor"))
        .args(["extract", "--help"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for line in [
        "Exit codes:",
        "2  usage",
        "3  configuration",
        "4  provider",
        "5  no valid answer",
        "6  I/O",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
}

// ---------------------------------------------------------------------------------------
// Many inputs (`--jsonl`)
// ---------------------------------------------------------------------------------------

fn number_schema(dir: &Path) -> PathBuf {
    let schema = json!({
        "title": "Number",
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"]
    });
    write(dir, "number.json", &schema.to_string())
}

/// `count` inputs `{"id": "doc-<i>", "text": "the number <i>"}`.
fn numbers_input(dir: &Path, count: usize) -> PathBuf {
    let lines: Vec<String> = (0..count)
        .map(|i| json!({"id": format!("doc-{i}"), "text": format!("the number {i}")}).to_string())
        .collect();
    write(dir, "inputs.jsonl", &(lines.join("\n") + "\n"))
}

/// The fake answers each request by its text: "the number 7" gives `{"n": 7}` (after
/// `delay`), "the number 13" an answer that fails the schema.
fn answer_by_text(server: &FakeProvider, delay: std::time::Duration) {
    server.set_guard(move |request| {
        let text = last_message(request);
        let digits: String = text
            .split("the number ")
            .nth(1)?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let answer = if digits == "13" {
            r#"{"n": "thirteen"}"#.to_owned()
        } else {
            format!(r#"{{"n": {digits}}}"#)
        };
        Some(
            ChatCompletion::tool_call("Number", answer)
                .reply()
                .delay(delay),
        )
    });
}

fn lines_of(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_inputs_give_one_line_each_with_its_id_and_a_summary() {
    let server = FakeProvider::start().await;
    answer_by_text(&server, std::time::Duration::ZERO);
    let dir = scratch_dir();
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(number_schema(&dir))
        .args(["--model", "openai/gpt-4o-mini", "--concurrency", "3"])
        .arg(numbers_input(&dir, 6));
    let output = run(command, None).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mut got: Vec<(String, i64)> = lines_of(&String::from_utf8_lossy(&output.stdout))
        .iter()
        .map(|line| {
            assert_eq!(line["ok"], true, "{line}");
            assert_eq!(line["attempts"], 1, "{line}");
            (
                line["id"].as_str().expect("an id").to_owned(),
                line["value"]["n"].as_i64().expect("n"),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, i64)> = (0..6).map(|i| (format!("doc-{i}"), i)).collect();
    assert_eq!(got, want);
    let summary = stderr(&output);
    assert!(summary.contains("done 6, failed 0"), "{summary}");
    assert!(
        summary.contains("cost about $"),
        "gpt-4o-mini has a list price: {summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_that_stays_invalid_is_its_own_line_and_exit_code_7() {
    let server = FakeProvider::start().await;
    answer_by_text(&server, std::time::Duration::ZERO);
    let dir = scratch_dir();
    let out = dir.join("out.jsonl");
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(number_schema(&dir))
        .args(["--model", "openai/gpt-4o-mini", "--max-retries", "1"])
        .arg("--output")
        .arg(&out)
        .arg(numbers_input(&dir, 15));
    let output = run(command, None).await;
    assert_eq!(code(&output), 7, "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let lines = lines_of(&std::fs::read_to_string(&out).expect("the output"));
    assert_eq!(lines.len(), 15);
    let failed: Vec<&Value> = lines.iter().filter(|line| line["ok"] == false).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], "doc-13");
    assert_eq!(failed[0]["attempts"], 2, "re-asked once");
    assert!(failed[0]["error"].as_str().expect("why").contains('n'));
    assert!(stderr(&output).contains("doc-13"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_input_line_is_a_usage_error_before_anything_is_sent() {
    let server = FakeProvider::start().await;
    let dir = scratch_dir();
    let input = write(
        &dir,
        "inputs.jsonl",
        "{\"id\": 1, \"text\": \"one\"}\n{\"id\": 1, \"text\": \"again\"}\n",
    );
    let mut command = instructor(&server);
    command
        .args(["extract", "--schema"])
        .arg(number_schema(&dir))
        .args(["--model", "openai/gpt-4o-mini"])
        .arg(&input);
    let output = run(command, None).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("inputs.jsonl:2"),
        "{}",
        stderr(&output)
    );
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_started_again_with_resume_ends_with_every_id_once() {
    const COUNT: usize = 40;
    let server = FakeProvider::start().await;
    answer_by_text(&server, std::time::Duration::from_millis(60));
    let dir = scratch_dir();
    let out = dir.join("out.jsonl");
    let schema = number_schema(&dir);
    let input = numbers_input(&dir, COUNT);
    let command = |server: &FakeProvider| {
        let mut command = instructor(server);
        command
            .args(["extract", "--schema"])
            .arg(&schema)
            .args([
                "--model",
                "openai/gpt-4o-mini",
                "--concurrency",
                "2",
                "--resume",
            ])
            .arg("--output")
            .arg(&out)
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    // Killed (SIGKILL) once some lines are written.
    let mut child = command(&server).spawn().expect("the binary starts");
    let written = tokio::task::spawn_blocking({
        let out = out.clone();
        move || {
            let started = std::time::Instant::now();
            let count = || {
                std::fs::read_to_string(&out)
                    .map(|text| text.lines().count())
                    .unwrap_or(0)
            };
            while count() < 6 && started.elapsed() < std::time::Duration::from_secs(60) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            child.kill().expect("killed");
            child.wait().expect("reaped");
            count()
        }
    })
    .await
    .expect("the watcher");
    assert!(written >= 6, "the first run wrote {written} lines");
    let before = lines_of(&std::fs::read_to_string(&out).expect("the output"));
    assert!(
        before.len() < COUNT,
        "killed before the end: {} lines",
        before.len()
    );
    let done_before: Vec<String> = before
        .iter()
        .filter(|line| line["ok"] == true)
        .map(|line| line["id"].as_str().expect("an id").to_owned())
        .collect();

    // The same command again: the rest is done, nothing twice.
    let output = run(command(&server), None).await;
    assert_eq!(code(&output), 7, "doc-13 has no value");
    let lines = lines_of(&std::fs::read_to_string(&out).expect("the output"));
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|line| line["id"].as_str().expect("an id"))
        .collect();
    ids.sort();
    let mut want: Vec<String> = (0..COUNT).map(|i| format!("doc-{i}")).collect();
    want.sort();
    assert_eq!(ids, want, "every id exactly once");
    for line in &lines {
        let id = line["id"].as_str().expect("an id");
        let n: i64 = id.trim_start_matches("doc-").parse().expect("a number");
        if n == 13 {
            assert_eq!(line["ok"], false);
        } else {
            assert_eq!(line["value"]["n"], n, "{line}");
        }
    }
    // What had a value before the kill was not asked again.
    let requests = server.requests();
    for id in &done_before {
        let text = format!("the number {}\"", id.trim_start_matches("doc-"));
        let asked = requests
            .iter()
            .filter(|request| last_message(request).contains(&text))
            .count();
        assert_eq!(asked, 1, "{id} was asked {asked} times");
    }
}

// ---------------------------------------------------------------------------------------
// The provider's batch engine (`batch create|status|results|cancel`)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_created_followed_and_read_with_its_invalid_line_reported() {
    let server = FakeProvider::start().await;
    // The lines are answered in order: doc-1's answer fails the schema.
    for answer in [r#"{"n": 0}"#, r#"{"n": "one"}"#, r#"{"n": 2}"#] {
        server.push(ChatCompletion::tool_call("Number", answer).reply());
    }
    let dir = scratch_dir();
    let schema = number_schema(&dir);
    let input = numbers_input(&dir, 3);
    let job = |args: &[&str]| {
        let mut command = instructor(&server);
        command.arg("batch").args(args);
        command
    };

    let mut create = job(&["create", "--model", "openai/gpt-4o-mini", "--schema"]);
    create.arg(&schema).arg(&input);
    let created = run(create, None).await;
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let created = stdout_json(&created);
    let id = created["id"].as_str().expect("a batch id").to_owned();
    // One line per input, each the body a single extraction sends, with its id.
    let upload = server
        .requests()
        .into_iter()
        .find(|request| request.path().ends_with("/files"))
        .expect("the input file was uploaded");
    let upload = String::from_utf8_lossy(upload.body()).into_owned();
    for i in 0..3 {
        assert!(
            upload.contains(&format!("\"custom_id\":\"doc-{i}\"")),
            "{upload}"
        );
    }
    assert!(upload.contains("the number 2"), "{upload}");

    let status = run(job(&["status", &id, "--model", "openai/gpt-4o-mini"]), None).await;
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert_eq!(stdout_json(&status)["id"], id.as_str());

    let mut results = job(&[
        "results",
        &id,
        "--model",
        "openai/gpt-4o-mini",
        "--wait",
        "0.01",
    ]);
    results.arg("--schema").arg(&schema).arg(&input);
    let results = run(results, None).await;
    assert_eq!(
        code(&results),
        7,
        "doc-1 has no value: {}",
        stderr(&results)
    );
    let mut lines = lines_of(&String::from_utf8_lossy(&results.stdout));
    lines.sort_by_key(|line| line["id"].as_str().expect("an id").to_owned());
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["value"]["n"], 0);
    assert_eq!(lines[1]["ok"], false);
    assert!(
        lines[1]["error"].as_str().expect("why").contains('n'),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2]["value"]["n"], 2);
    assert!(
        stderr(&results).contains("done 2, failed 1"),
        "{}",
        stderr(&results)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_can_be_canceled_and_ids_that_cannot_be_custom_ids_are_refused() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("Number", r#"{"n": 0}"#).reply());
    let dir = scratch_dir();
    let schema = number_schema(&dir);
    let input = numbers_input(&dir, 1);
    let mut create = instructor(&server);
    create
        .args([
            "batch",
            "create",
            "--model",
            "openai/gpt-4o-mini",
            "--schema",
        ])
        .arg(&schema)
        .arg(&input);
    let created = run(create, None).await;
    assert_eq!(code(&created), 0, "{}", stderr(&created));
    let id = stdout_json(&created)["id"]
        .as_str()
        .expect("a batch id")
        .to_owned();
    let mut cancel = instructor(&server);
    cancel.args(["batch", "cancel", &id, "--model", "openai/gpt-4o-mini"]);
    let canceled = run(cancel, None).await;
    assert_eq!(code(&canceled), 0, "{}", stderr(&canceled));
    let state = stdout_json(&canceled)["state"]
        .as_str()
        .expect("a state")
        .to_owned();
    assert!(state.starts_with("cancel"), "{state}");

    let before = server.requests().len();
    let bad = write(&dir, "bad.jsonl", "{\"id\": \"a b\", \"text\": \"x\"}\n");
    let mut create = instructor(&server);
    create
        .args([
            "batch",
            "create",
            "--model",
            "openai/gpt-4o-mini",
            "--schema",
        ])
        .arg(&schema)
        .arg(&bad);
    let refused = run(create, None).await;
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("custom id"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(server.requests().len(), before, "nothing sent");
}
