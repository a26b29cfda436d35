//! The batch endpoints of the fake provider: OpenAI's Files and Batch APIs,
//! Anthropic's Message Batches and Gemini's batch mode, served from memory.
//!
//! - **OpenAI**: `POST /v1/files` (multipart, purpose `batch`) keeps the JSONL file;
//!   `POST /v1/batches` starts a batch over it (`validating`); each
//!   `GET /v1/batches/{id}` moves it on: `in_progress`, `finalizing`, then
//!   `completed`, when every line is answered; `POST /v1/batches/{id}/cancel` makes it
//!   `cancelling`, then `cancelled` at the next poll; `GET /v1/files/{id}/content`
//!   serves the output file (2xx answers) and the error file (the others, expired and
//!   canceled lines), cut into several chunks.
//! - **Anthropic**: `POST /v1/messages/batches` (`in_progress`), each
//!   `GET /v1/messages/batches/{id}` moves it on (`ended` at the second poll, with a
//!   `results_url`), `POST /v1/messages/batches/{id}/cancel` (`canceling`, then
//!   `ended` with the lines canceled), `GET /v1/messages/batches/{id}/results`.
//! - **Gemini**: `POST /v1beta/models/{model}:batchGenerateContent` (inline requests,
//!   an operation named `batches/{n}`, `BATCH_STATE_PENDING`), each
//!   `GET /v1beta/batches/{n}` moves it on (`RUNNING`, then `SUCCEEDED` with
//!   `done: true` and the inlined responses keyed by `metadata.key`),
//!   `POST /v1beta/batches/{n}:cancel`.
//!
//! Each line is answered, when its batch ends, by the next scripted reply for the
//! single-request path (`/v1/chat/completions`, `/v1/messages`,
//! `/v1beta/models/{model}:generateContent`), as if it had been
//! sent alone: a 2xx reply's body is the line's answer, another status its error. A
//! reply with the header [`OUTCOME_HEADER`] set to `expired` or `canceled` stands for a
//! line the provider did not answer. A reply queued with `push_for` on a batch path
//! itself answers that request instead (a refusal, a hostile status).

use super::Reply;
use super::server::RecordedRequest;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// A scripted reply with this header (`expired` or `canceled`) stands for a line the
/// batch did not answer.
pub const OUTCOME_HEADER: &str = "x-fake-batch-outcome";

/// The path of OpenAI's file upload.
pub const OPENAI_FILES_PATH: &str = "/v1/files";
/// The path of OpenAI's batch creation.
pub const OPENAI_BATCHES_PATH: &str = "/v1/batches";
/// The path of Anthropic's batch creation.
pub const ANTHROPIC_BATCHES_PATH: &str = "/v1/messages/batches";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    OpenAi,
    Anthropic,
    /// With the model the batch runs.
    Gemini(String),
}

#[derive(Debug)]
struct Job {
    kind: Kind,
    /// Each line's custom id.
    ids: Vec<String>,
    /// How often it was polled.
    polls: u32,
    cancel_asked: bool,
    /// Once ended: each line's outcome.
    answers: Option<Vec<Answer>>,
    canceled: bool,
    created_at: u64,
}

#[derive(Debug)]
enum Answer {
    Ok(Value),
    Status(u16, Value),
    Expired,
    Canceled,
}

/// The batch endpoints' memory.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    files: HashMap<String, Vec<u8>>,
    jobs: HashMap<String, Job>,
    next: u64,
}

impl Batches {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }
}

/// Whether the request is for the batch endpoints.
pub(crate) fn claims(method: &str, path: &str) -> bool {
    match method {
        "POST" if path.starts_with("/v1beta/") => {
            (path.starts_with("/v1beta/models/") && path.ends_with(":batchGenerateContent"))
                || (path.starts_with("/v1beta/batches/") && path.ends_with(":cancel"))
        }
        "POST" => {
            path == OPENAI_FILES_PATH
                || path == OPENAI_BATCHES_PATH
                || path == ANTHROPIC_BATCHES_PATH
                || (path.starts_with("/v1/batches/") && path.ends_with("/cancel"))
                || (path.starts_with("/v1/messages/batches/") && path.ends_with("/cancel"))
        }
        "GET" if path.starts_with("/v1beta/batches/") => true,
        "GET" => {
            path.starts_with("/v1/batches/")
                || path.starts_with("/v1/messages/batches/")
                || (path.starts_with("/v1/files/") && path.ends_with("/content"))
        }
        _ => false,
    }
}

fn error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

/// Answers a batch request: a reply queued for its own path first, else the batch
/// endpoints; `next` gives the scripted reply of each line's single-request path.
pub(crate) fn answer(
    batches: &Mutex<Batches>,
    request: &RecordedRequest,
    own: impl Fn(&str) -> Option<Reply>,
    next: impl Fn(&str) -> Option<Reply>,
) -> Reply {
    if let Some(reply) = own(request.path()) {
        return reply;
    }
    let path = request.path().to_owned();
    let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
    let mut batches = batches.lock().unwrap_or_else(PoisonError::into_inner);
    let batches = &mut *batches;
    match (request.method(), path.as_str()) {
        ("POST", OPENAI_FILES_PATH) => upload(batches, request),
        ("POST", OPENAI_BATCHES_PATH) => create_openai(batches, request),
        ("POST", ANTHROPIC_BATCHES_PATH) => create_anthropic(batches, request),
        ("POST", p) if p.starts_with("/v1beta/models/") => {
            let model = &p["/v1beta/models/".len()..p.len() - ":batchGenerateContent".len()];
            create_gemini(batches, request, model)
        }
        (method, p) if p.starts_with("/v1beta/batches/") => {
            let rest = &p["/v1beta/".len()..];
            let (id, cancel) = match rest.strip_suffix(":cancel") {
                Some(id) => (id.to_owned(), true),
                None => (rest.to_owned(), false),
            };
            let Some(job) = batches.jobs.get_mut(&id) else {
                return error(404, "no such batch");
            };
            if cancel && method == "POST" {
                job.cancel_asked = true;
                return Reply::json(200, json!({}));
            }
            job.polls += 1;
            advance(job, &next);
            Reply::json(200, describe(batches, &id, &host))
        }
        ("GET", p) if p.starts_with("/v1/files/") => {
            let id = &p["/v1/files/".len()..p.len() - "/content".len()];
            match batches.files.get(id) {
                Some(file) => jsonl(file.clone()),
                None => error(404, "no such file"),
            }
        }
        ("GET", p) if p.starts_with("/v1/messages/batches/") && p.ends_with("/results") => {
            let id = &p["/v1/messages/batches/".len()..p.len() - "/results".len()];
            match batches.jobs.get(id) {
                Some(job) if job.answers.is_some() => jsonl(anthropic_results(job)),
                Some(_) => error(409, "the batch has not ended"),
                None => error(404, "no such batch"),
            }
        }
        (method, p) => {
            let (prefix, kind) = if let Some(rest) = p.strip_prefix("/v1/messages/batches/") {
                (rest, Kind::Anthropic)
            } else if let Some(rest) = p.strip_prefix("/v1/batches/") {
                (rest, Kind::OpenAi)
            } else {
                return error(404, "no such batch route");
            };
            let (id, cancel) = match prefix.strip_suffix("/cancel") {
                Some(id) => (id.to_owned(), true),
                None => (prefix.to_owned(), false),
            };
            let Some(job) = batches.jobs.get_mut(&id) else {
                return error(404, "no such batch");
            };
            if job.kind != kind || (cancel && method != "POST") {
                return error(404, "no such batch");
            }
            if cancel {
                job.cancel_asked = true;
            } else {
                job.polls += 1;
                advance(job, &next);
            }
            let body = describe(batches, &id, &host);
            Reply::json(200, body)
        }
    }
}

/// A JSONL body, cut into several chunks so that lines straddle reads.
fn jsonl(file: Vec<u8>) -> Reply {
    let len = file.len();
    let cuts: Vec<usize> = (1..4)
        .map(|i| i * len / 4)
        .filter(|&c| c > 0 && c < len)
        .collect();
    let reply = Reply::status(200)
        .header("content-type", "application/jsonl")
        .body(file);
    if cuts.is_empty() {
        reply
    } else {
        reply.cut_at(&cuts)
    }
}

/// Moves a polled job on; a job that ends is answered line by line.
fn advance(job: &mut Job, next: &impl Fn(&str) -> Option<Reply>) {
    if job.answers.is_some() {
        return;
    }
    if job.cancel_asked {
        job.canceled = true;
        job.answers = Some(job.ids.iter().map(|_| Answer::Canceled).collect());
        return;
    }
    let ends_at = match job.kind {
        Kind::OpenAi => 3,
        Kind::Anthropic | Kind::Gemini(_) => 2,
    };
    if job.polls < ends_at {
        return;
    }
    let path = match &job.kind {
        Kind::OpenAi => "/v1/chat/completions".to_owned(),
        Kind::Anthropic => "/v1/messages".to_owned(),
        Kind::Gemini(model) => format!("/v1beta/models/{model}:generateContent"),
    };
    let path = path.as_str();
    let answers = job
        .ids
        .iter()
        .map(|_| match next(path) {
            None => Answer::Status(
                500,
                json!({"error": {"message": "no scripted reply for this line", "type": "fake_provider_error"}}),
            ),
            Some(reply) => match reply.header_value(OUTCOME_HEADER) {
                Some("expired") => Answer::Expired,
                Some("canceled") => Answer::Canceled,
                _ => {
                    let body: Vec<u8> = reply.chunks().concat();
                    let body = serde_json::from_slice(&body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
                    match reply.status_code() {
                        200..=299 => Answer::Ok(body),
                        status => Answer::Status(status, body),
                    }
                }
            },
        })
        .collect();
    job.answers = Some(answers);
}

fn upload(batches: &mut Batches, request: &RecordedRequest) -> Reply {
    let Some(boundary) = request
        .header("content-type")
        .and_then(|t| t.split_once("boundary="))
        .map(|(_, b)| b.trim_matches('"').to_owned())
    else {
        return error(400, "the upload is not multipart/form-data");
    };
    let parts = multipart_parts(request.body(), &boundary);
    let purpose = parts.iter().find(|(name, _)| name == "purpose");
    if purpose.map(|(_, value)| value.as_slice()) != Some(b"batch".as_slice()) {
        return error(400, "purpose must be `batch`");
    }
    let Some((_, file)) = parts.into_iter().find(|(name, _)| name == "file") else {
        return error(400, "no `file` part");
    };
    for line in file.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(line) = serde_json::from_slice::<Value>(line) else {
            return error(400, "a line of the file is not JSON");
        };
        if line["method"] != "POST" || line["url"] != "/v1/chat/completions" {
            return error(400, "a line does not POST to /v1/chat/completions");
        }
        if !line["custom_id"].is_string() || !line["body"].is_object() {
            return error(400, "a line lacks custom_id or body");
        }
    }
    let id = batches.id("file-");
    let bytes = file.len();
    batches.files.insert(id.clone(), file);
    Reply::json(
        200,
        json!({
            "id": id, "object": "file", "bytes": bytes, "created_at": 1_767_000_000,
            "filename": "batch.jsonl", "purpose": "batch",
        }),
    )
}

/// The parts of a multipart body: `(name, content)`.
fn multipart_parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content_start = head_end + 4;
        let end = find(
            &rest[content_start..],
            format!("\r\n{delimiter}").as_bytes(),
        )
        .map_or(rest.len(), |e| content_start + e);
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
            .unwrap_or_default()
            .to_owned();
        parts.push((name, rest[content_start..end].to_vec()));
        rest = &rest[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn create_openai(batches: &mut Batches, request: &RecordedRequest) -> Reply {
    let Some(body) = request.json() else {
        return error(400, "the body is not JSON");
    };
    if body["endpoint"] != "/v1/chat/completions" || body["completion_window"] != "24h" {
        return error(400, "endpoint or completion_window not as expected");
    }
    let Some(file) = body["input_file_id"]
        .as_str()
        .and_then(|id| batches.files.get(id))
    else {
        return error(400, "no such input file");
    };
    let ids = file
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .map(|l| l["custom_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let id = batches.id("batch_");
    let job = Job {
        kind: Kind::OpenAi,
        ids,
        polls: 0,
        cancel_asked: false,
        answers: None,
        canceled: false,
        created_at: 1_767_000_000,
    };
    batches.jobs.insert(id.clone(), job);
    Reply::json(200, describe(batches, &id, ""))
}

fn create_anthropic(batches: &mut Batches, request: &RecordedRequest) -> Reply {
    let Some(requests) = request.json().and_then(|b| b["requests"].as_array()) else {
        return error(400, "the body has no `requests` list");
    };
    let mut ids = Vec::new();
    for line in requests {
        match (line["custom_id"].as_str(), line["params"].is_object()) {
            (Some(id), true) => ids.push(id.to_owned()),
            _ => return error(400, "a request lacks custom_id or params"),
        }
    }
    let id = batches.id("msgbatch_");
    let job = Job {
        kind: Kind::Anthropic,
        ids,
        polls: 0,
        cancel_asked: false,
        answers: None,
        canceled: false,
        created_at: 1_767_000_000,
    };
    batches.jobs.insert(id.clone(), job);
    Reply::json(200, describe(batches, &id, ""))
}

/// The batch object of `id` as its provider describes it; files are written when an
/// OpenAI batch has ended.
fn describe(batches: &mut Batches, id: &str, host: &str) -> Value {
    let Some(job) = batches.jobs.get(id) else {
        return json!({});
    };
    match &job.kind {
        Kind::Gemini(model) => gemini_operation(job, id, model),
        Kind::OpenAi => {
            let status = match (&job.answers, job.canceled, job.cancel_asked, job.polls) {
                (Some(_), true, _, _) => "cancelled",
                (Some(_), false, _, _) => "completed",
                (None, _, true, _) => "cancelling",
                (None, _, _, 0) => "validating",
                (None, _, _, 1) => "in_progress",
                (None, _, _, _) => "finalizing",
            };
            let mut output = Vec::new();
            let mut errors = Vec::new();
            let (mut completed, mut failed) = (0u64, 0u64);
            for (n, (custom_id, answer)) in
                job.ids.iter().zip(job.answers.iter().flatten()).enumerate()
            {
                let line = match answer {
                    Answer::Ok(body) => {
                        completed += 1;
                        let line = json!({"id": format!("batch_req_{n}"), "custom_id": custom_id,
                            "response": {"status_code": 200, "request_id": format!("req_{n}"), "body": body},
                            "error": null});
                        output.push(line);
                        continue;
                    }
                    Answer::Status(status, body) => {
                        json!({"id": format!("batch_req_{n}"), "custom_id": custom_id,
                        "response": {"status_code": status, "request_id": format!("req_{n}"), "body": body},
                        "error": null})
                    }
                    Answer::Expired => {
                        json!({"id": format!("batch_req_{n}"), "custom_id": custom_id, "response": null,
                        "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
                    }
                    Answer::Canceled => {
                        json!({"id": format!("batch_req_{n}"), "custom_id": custom_id, "response": null,
                        "error": {"code": "batch_cancelled", "message": "This request was cancelled."}})
                    }
                };
                failed += 1;
                errors.push(line);
            }
            let created_at = job.created_at;
            let total = job.ids.len();
            let input = "file-0";
            let ended = job.answers.is_some();
            let file_id = |batches: &mut Batches, lines: Vec<Value>, which: &str| -> Value {
                if !ended || lines.is_empty() {
                    return Value::Null;
                }
                let name = format!("file-{which}-{id}");
                let mut bytes = Vec::new();
                for line in lines {
                    bytes.extend_from_slice(line.to_string().as_bytes());
                    bytes.push(b'\n');
                }
                batches.files.insert(name.clone(), bytes);
                Value::String(name)
            };
            let output_file_id = file_id(batches, output, "out");
            let error_file_id = file_id(batches, errors, "err");
            json!({
                "id": id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": input, "completion_window": "24h", "status": status,
                "output_file_id": output_file_id, "error_file_id": error_file_id,
                "created_at": created_at,
                "request_counts": {"total": total, "completed": completed, "failed": failed},
            })
        }
        Kind::Anthropic => {
            let ended = job.answers.is_some();
            let status = match (ended, job.cancel_asked) {
                (true, _) => "ended",
                (false, true) => "canceling",
                (false, false) => "in_progress",
            };
            let mut counts =
                json!({"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0});
            match &job.answers {
                None => counts["processing"] = json!(job.ids.len()),
                Some(answers) => {
                    for answer in answers {
                        let key = match answer {
                            Answer::Ok(_) => "succeeded",
                            Answer::Status(..) => "errored",
                            Answer::Expired => "expired",
                            Answer::Canceled => "canceled",
                        };
                        counts[key] = json!(counts[key].as_u64().unwrap_or(0) + 1);
                    }
                }
            }
            let results_url = if ended {
                json!(format!("http://{host}/v1/messages/batches/{id}/results"))
            } else {
                Value::Null
            };
            json!({
                "id": id, "type": "message_batch", "processing_status": status,
                "request_counts": counts,
                "created_at": "2026-12-01T00:00:00Z", "expires_at": "2026-12-02T00:00:00Z",
                "ended_at": if ended { json!("2026-12-01T01:00:00Z") } else { Value::Null },
                "cancel_initiated_at": if job.cancel_asked { json!("2026-12-01T00:30:00Z") } else { Value::Null },
                "archived_at": null,
                "results_url": results_url,
            })
        }
    }
}

fn anthropic_results(job: &Job) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (custom_id, answer) in job.ids.iter().zip(job.answers.iter().flatten()) {
        let result = match answer {
            Answer::Ok(message) => json!({"type": "succeeded", "message": message}),
            Answer::Status(_, body) => {
                let error = body
                    .get("error")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "api_error", "message": body.to_string()}));
                json!({"type": "errored", "error": {"type": "error", "error": error}})
            }
            Answer::Expired => json!({"type": "expired"}),
            Answer::Canceled => json!({"type": "canceled"}),
        };
        bytes.extend_from_slice(
            json!({"custom_id": custom_id, "result": result})
                .to_string()
                .as_bytes(),
        );
        bytes.push(b'\n');
    }
    bytes
}

fn create_gemini(batches: &mut Batches, request: &RecordedRequest, model: &str) -> Reply {
    let Some(lines) = request
        .json()
        .and_then(|b| b["batch"]["inputConfig"]["requests"]["requests"].as_array())
    else {
        return error(
            400,
            "the body has no batch.inputConfig.requests.requests list",
        );
    };
    let mut ids = Vec::new();
    for line in lines {
        match (
            line["metadata"]["key"].as_str(),
            line["request"].is_object(),
        ) {
            (Some(key), true) => ids.push(key.to_owned()),
            _ => return error(400, "an inlined request lacks request or metadata.key"),
        }
    }
    let id = batches.id("batches/");
    let job = Job {
        kind: Kind::Gemini(model.to_owned()),
        ids,
        polls: 0,
        cancel_asked: false,
        answers: None,
        canceled: false,
        created_at: 1_767_000_000,
    };
    batches.jobs.insert(id.clone(), job);
    Reply::json(200, describe(batches, &id, ""))
}

/// A Gemini batch as its long-running operation.
fn gemini_operation(job: &Job, id: &str, model: &str) -> Value {
    let state = match (&job.answers, job.canceled, job.polls) {
        (Some(_), true, _) => "BATCH_STATE_CANCELLED",
        (Some(_), false, _) => "BATCH_STATE_SUCCEEDED",
        (None, _, 0) => "BATCH_STATE_PENDING",
        (None, _, _) => "BATCH_STATE_RUNNING",
    };
    let total = job.ids.len();
    let answers: Vec<&Answer> = job.answers.iter().flatten().collect();
    let succeeded = answers
        .iter()
        .filter(|a| matches!(a, Answer::Ok(_)))
        .count();
    let mut operation = json!({
        "name": id,
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": format!("models/{model}"),
            "displayName": "instructor-batch",
            "state": state,
            "batchStats": {
                "requestCount": total.to_string(),
                "successfulRequestCount": succeeded.to_string(),
                "failedRequestCount": (answers.len() - succeeded).to_string(),
                "pendingRequestCount": (total - answers.len()).to_string(),
            },
        },
    });
    if job.answers.is_some() {
        let inlined: Vec<Value> = job
            .ids
            .iter()
            .zip(answers)
            .map(|(key, answer)| {
                let metadata = json!({"key": key});
                match answer {
                    Answer::Ok(body) => json!({"response": body, "metadata": metadata}),
                    Answer::Status(status, body) => json!({"error": {"code": status,
                        "message": body["error"]["message"].as_str().unwrap_or("error")}, "metadata": metadata}),
                    Answer::Expired => json!({"error": {"code": 4, "message": "expired"}, "metadata": metadata}),
                    Answer::Canceled => json!({"error": {"code": 1, "message": "cancelled"}, "metadata": metadata}),
                }
            })
            .collect();
        operation["done"] = json!(true);
        operation["response"] = json!({
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
            "inlinedResponses": {"inlinedResponses": inlined},
        });
    }
    operation
}
