//! The batch engines' wire: OpenAI Batch (JSONL upload, create, poll, cancel, output
//! and error files) and Anthropic Message Batches (create, poll, cancel, results),
//! over real HTTP against the fake provider's batch endpoints. Every body sent is
//! checked against the providers' published descriptions (`testdata/specs/`); what
//! the server sends back (ids, result URLs, long lines, keys) is not trusted.

use futures::StreamExt;
use instructor_core::chat::{
    ChatRequest, GenerationParams, Message, Mode, OutputSpec, ProviderError,
};
use instructor_core::client::{BatchLine, BatchOutcome, BatchProvider, BatchRequest, BatchState};
use instructor_core::schema::{ObjectSchema, Property, RootSchema, Schema, SchemaKind};
use instructor_providers::anthropic::{AnthropicBatch, AnthropicConfig};
use instructor_providers::batch::BatchLimits;
use instructor_providers::openai::{OpenAiBatch, OpenAiConfig};
use instructor_providers::testing::batch::OUTCOME_HEADER;
use instructor_providers::testing::{FakeProvider, Reply, anthropic, openai};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const KEY: &str = "sk-batch-secret-key-0123456789";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

fn document(name: &str) -> Value {
    let bytes = std::fs::read(testdata().join("specs").join(name)).expect("the description");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A validator of one component of a published description, references resolved
/// within the whole document.
fn validator(document: &Value, component: &str) -> jsonschema::Validator {
    let mut schema = document.clone();
    schema["$ref"] = json!(format!("#/components/schemas/{component}"));
    jsonschema::draft202012::options()
        .build(&schema)
        .expect("the component compiles")
}

fn errors(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect()
}

struct OpenAiSpec {
    chat: jsonschema::Validator,
    create: jsonschema::Validator,
}

fn openai_spec() -> &'static OpenAiSpec {
    static SPEC: OnceLock<OpenAiSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let document = document("openai-chat-responses-batches.openapi.json");
        OpenAiSpec {
            chat: validator(&document, "CreateChatCompletionRequest"),
            create: validator(&document, "CreateBatchRequest"),
        }
    })
}

fn anthropic_spec() -> &'static jsonschema::Validator {
    static SPEC: OnceLock<jsonschema::Validator> = OnceLock::new();
    SPEC.get_or_init(|| {
        validator(
            &document("anthropic-messages-batches.openapi.json"),
            "CreateMessageBatchParams",
        )
    })
}

fn person() -> Arc<RootSchema> {
    let mut object = ObjectSchema::default();
    for name in ["name", "age"] {
        object.properties.insert(
            name.into(),
            Property {
                schema: if name == "age" {
                    Schema::integer(None, None)
                } else {
                    Schema::string()
                },
                required: true,
            },
        );
    }
    Arc::new(RootSchema {
        schema: Schema {
            kind: SchemaKind::Object(object),
            ..Schema::default()
        },
        defs: Default::default(),
        root_name: None,
    })
}

fn request(model: &str, text: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::system("Extract the person."), Message::user(text)],
        output: Some(OutputSpec {
            mode: Mode::Tools,
            schema: person(),
            name: "Person".into(),
            description: None,
            tools: Vec::new(),
        }),
        params: GenerationParams {
            max_tokens: Some(256),
            ..Default::default()
        },
        extra: Default::default(),
    }
}

fn openai_batch(server: &FakeProvider) -> OpenAiBatch {
    OpenAiBatch::new(OpenAiConfig::new(server.base_url()).with_api_key(KEY))
}

fn anthropic_batch(server: &FakeProvider) -> AnthropicBatch {
    AnthropicBatch::new(AnthropicConfig::new(server.origin()).with_api_key(KEY))
}

async fn all_lines(batch: &dyn BatchProvider, id: &str) -> Vec<BatchLine> {
    let mut lines = batch.results(id).await.expect("results open");
    let mut out = Vec::new();
    while let Some(line) = lines.next().await {
        out.push(line.expect("a line"));
    }
    out
}

fn no_key(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
}

#[tokio::test]
async fn openai_uploads_jsonl_creates_polls_and_reads_both_files() {
    let server = FakeProvider::start().await;
    let batch = openai_batch(&server);
    server
        .push(openai::ChatCompletion::tool_call("Person", r#"{"name": "Ann", "age": 30}"#).reply());
    server.push(Reply::json(
        400,
        openai::error_body("bad request", "invalid_request_error", None),
    ));
    server.push(Reply::status(200).header(OUTCOME_HEADER, "expired"));
    let (a, b, c) = (
        request("gpt-4o-mini", "Ann is 30"),
        request("gpt-4o-mini", "Bo is 41"),
        request("gpt-4o-mini", "Cy is 52"),
    );
    let requests = [
        BatchRequest {
            custom_id: "a",
            request: &a,
        },
        BatchRequest {
            custom_id: "b",
            request: &b,
        },
        BatchRequest {
            custom_id: "c",
            request: &c,
        },
    ];
    let submitted = batch.submit(&requests).await.expect("submitted");
    assert_eq!(submitted.state, BatchState::Pending);

    // The upload: multipart with purpose `batch`, one line per request, each body a
    // chat completion request the description accepts.
    let upload = &server.requests_for("/v1/files")[0];
    assert!(
        upload
            .header("content-type")
            .expect("as scripted")
            .starts_with("multipart/form-data; boundary=")
    );
    assert_eq!(
        upload.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body = String::from_utf8_lossy(upload.body()).into_owned();
    assert!(body.contains("name=\"purpose\"\r\n\r\nbatch\r\n"), "{body}");
    let file = body.split("\r\n\r\n").nth(2).expect("the file part");
    let lines: Vec<Value> = file
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, id) in lines.iter().zip(["a", "b", "c"]) {
        assert_eq!(line["custom_id"], id);
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        let found = errors(&openai_spec().chat, &line["body"]);
        assert!(found.is_empty(), "{found:#?}");
        assert_eq!(line["body"]["tool_choice"]["function"]["name"], "Person");
    }
    // The body is the one a single request sends.
    let single = instructor_providers::openai::OpenAi::new(OpenAiConfig::new(server.base_url()))
        .request_body(&a)
        .expect("as scripted");
    assert_eq!(lines[0]["body"], single);
    let create = server.requests_for("/v1/batches")[0]
        .json()
        .expect("as scripted")
        .clone();
    let found = errors(&openai_spec().create, &create);
    assert!(found.is_empty(), "{found:#?}");
    assert!(
        !errors(
            &openai_spec().create,
            &json!({"endpoint": "/v1/chat/completions"})
        )
        .is_empty()
    );

    // Statuses move on with each poll.
    let id = submitted.id.clone();
    let mut states = Vec::new();
    loop {
        let status = batch.status(&id).await.expect("status");
        states.push(status.state.clone());
        if status.state.is_terminal() {
            assert_eq!(
                status.counts.map(|c| (c.total, c.succeeded, c.failed)),
                Some((3, 1, 2))
            );
            break;
        }
    }
    assert_eq!(
        states,
        [
            BatchState::Running,
            BatchState::Finalizing,
            BatchState::Ended
        ]
    );

    let mut lines = all_lines(&batch, &id).await;
    lines.sort_by(|x, y| x.custom_id.cmp(&y.custom_id));
    let ids: Vec<&str> = lines.iter().map(|l| l.custom_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    match &lines[0].outcome {
        BatchOutcome::Response(response) => {
            assert_eq!(
                &*response.tool_calls[0].arguments,
                r#"{"name": "Ann", "age": 30}"#
            );
        }
        other => panic!("{other:?}"),
    }
    match &lines[1].outcome {
        BatchOutcome::Error(ProviderError::Status { status, body, .. }) => {
            assert_eq!(*status, 400);
            assert!(body.contains("bad request"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(lines[2].outcome, BatchOutcome::Expired));
    // Both files were read, each cut across reads.
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path().ends_with("/content"))
            .count(),
        2
    );
}

#[tokio::test]
async fn openai_cancel_reports_unanswered_lines_canceled() {
    let server = FakeProvider::start().await;
    let batch = openai_batch(&server);
    let a = request("gpt-4o-mini", "Ann is 30");
    let requests = [BatchRequest {
        custom_id: "a",
        request: &a,
    }];
    let submitted = batch.submit(&requests).await.expect("submitted");
    let canceling = batch.cancel(&submitted.id).await.expect("cancel");
    assert_eq!(canceling.state, BatchState::Canceling);
    assert_eq!(
        server.requests_for(&format!("/v1/batches/{}/cancel", submitted.id))[0].method(),
        "POST"
    );
    let status = batch.status(&submitted.id).await.expect("status");
    assert_eq!(status.state, BatchState::Canceled);
    let lines = all_lines(&batch, &submitted.id).await;
    assert!(
        matches!(lines[0].outcome, BatchOutcome::Canceled),
        "{lines:?}"
    );
}

#[tokio::test]
async fn results_of_a_running_batch_are_refused_before_any_download() {
    let server = FakeProvider::start().await;
    let batch = openai_batch(&server);
    let a = request("gpt-4o-mini", "Ann is 30");
    let submitted = batch
        .submit(&[BatchRequest {
            custom_id: "a",
            request: &a,
        }])
        .await
        .expect("as scripted");
    let error = match batch.results(&submitted.id).await {
        Err(error) => error,
        Ok(_) => panic!("results of a running batch"),
    };
    assert!(error.to_string().contains("not done"), "{error}");
}

#[tokio::test]
async fn a_result_line_past_the_limit_is_an_error_not_an_allocation() {
    let server = FakeProvider::start().await;
    let batch = OpenAiBatch::with_limits(
        OpenAiConfig::new(server.base_url()).with_api_key(KEY),
        BatchLimits::default().with_max_line_bytes(200),
    );
    let long = "x".repeat(5_000);
    server.push(openai::ChatCompletion::content(long).reply());
    let a = request("gpt-4o-mini", "Ann is 30");
    let submitted = batch
        .submit(&[BatchRequest {
            custom_id: "a",
            request: &a,
        }])
        .await
        .expect("as scripted");
    while !batch
        .status(&submitted.id)
        .await
        .expect("as scripted")
        .state
        .is_terminal()
    {}
    let mut lines = batch.results(&submitted.id).await.expect("as scripted");
    match lines.next().await {
        Some(Err(ProviderError::Decode { message, .. })) => {
            assert!(
                message.contains("longer than the limit of 200 bytes"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        lines.next().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn hostile_ids_and_echoed_keys_from_the_server_are_refused_and_redacted() {
    let server = FakeProvider::start().await;
    let batch = openai_batch(&server);
    let a = request("gpt-4o-mini", "Ann is 30");
    let requests = [BatchRequest {
        custom_id: "a",
        request: &a,
    }];
    // A file id that would walk the URL.
    server.push_for("/v1/files", Reply::json(200, json!({"id": "../../admin"})));
    let error = batch
        .submit(&requests)
        .await
        .expect_err("refused as scripted");
    assert!(matches!(error, ProviderError::Decode { .. }), "{error:?}");
    assert!(
        server.requests_for("/v1/batches").is_empty(),
        "nothing created"
    );
    // An error echoing the key.
    server.push_for(
        "/v1/files",
        Reply::json(401, json!({"error": {"message": format!("bad key {KEY}")}})),
    );
    let error = batch
        .submit(&requests)
        .await
        .expect_err("refused as scripted");
    no_key(&format!("{error} {error:?}"));
    assert!(matches!(error, ProviderError::Status { status: 401, .. }));
    // A status that is not known is kept, bounded and without the key.
    server.push_for("/v1/files", Reply::json(200, json!({"id": "file-x"})));
    server.push_for(
        "/v1/batches",
        Reply::json(
            200,
            json!({"id": "batch_x", "status": format!("odd {KEY}")}),
        ),
    );
    let status = batch.submit(&requests).await.expect("as scripted");
    match status.state {
        BatchState::Other(text) => no_key(&text),
        other => panic!("{other:?}"),
    }
    no_key(&format!("{batch:?}"));
}

#[tokio::test]
async fn anthropic_creates_polls_and_reads_results() {
    let server = FakeProvider::start().await;
    let batch = anthropic_batch(&server);
    server.push(anthropic::Message::tool_use("Person", r#"{"name": "Ann", "age": 30}"#).reply());
    server.push(Reply::json(
        529,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ));
    server.push(Reply::status(200).header(OUTCOME_HEADER, "canceled"));
    let (a, b, c) = (
        request("claude-sonnet-4-5", "Ann is 30"),
        request("claude-sonnet-4-5", "Bo is 41"),
        request("claude-sonnet-4-5", "Cy is 52"),
    );
    let requests = [
        BatchRequest {
            custom_id: "a",
            request: &a,
        },
        BatchRequest {
            custom_id: "b",
            request: &b,
        },
        BatchRequest {
            custom_id: "c",
            request: &c,
        },
    ];
    let submitted = batch.submit(&requests).await.expect("submitted");
    assert_eq!(submitted.state, BatchState::Running);
    let create = &server.requests_for("/v1/messages/batches")[0];
    assert_eq!(create.header("x-api-key"), Some(KEY));
    assert!(create.header("anthropic-version").is_some());
    let body = create.json().expect("as scripted");
    let found = errors(anthropic_spec(), body);
    assert!(found.is_empty(), "{found:#?}");
    // The check catches a body the API would refuse.
    let mut bad = body.clone();
    bad["requests"][0]["custom_id"] = json!("not an id!");
    assert!(!errors(anthropic_spec(), &bad).is_empty());
    assert_eq!(
        body["requests"][0]["params"],
        instructor_providers::anthropic::Anthropic::new(AnthropicConfig::new(server.origin()))
            .request_body(&a)
            .expect("as scripted")
    );

    let id = submitted.id.clone();
    assert_eq!(
        batch.status(&id).await.expect("as scripted").state,
        BatchState::Running
    );
    let ended = batch.status(&id).await.expect("as scripted");
    assert_eq!(ended.state, BatchState::Ended);
    assert_eq!(
        ended.counts.map(|c| (c.total, c.succeeded, c.failed)),
        Some((3, 1, 2))
    );

    let lines = all_lines(&batch, &id).await;
    assert_eq!(lines.len(), 3);
    match &lines[0].outcome {
        BatchOutcome::Response(response) => {
            assert_eq!(response.tool_calls[0].name, "Person");
        }
        other => panic!("{other:?}"),
    }
    match &lines[1].outcome {
        BatchOutcome::Error(ProviderError::Stream { kind, message, .. }) => {
            assert_eq!(
                (kind.as_str(), message.as_str()),
                ("overloaded_error", "Overloaded")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(lines[2].outcome, BatchOutcome::Canceled));
}

#[tokio::test]
async fn anthropic_cancel_then_results_are_canceled() {
    let server = FakeProvider::start().await;
    let batch = anthropic_batch(&server);
    let a = request("claude-sonnet-4-5", "Ann is 30");
    let submitted = batch
        .submit(&[BatchRequest {
            custom_id: "a",
            request: &a,
        }])
        .await
        .expect("as scripted");
    assert_eq!(
        batch
            .cancel(&submitted.id)
            .await
            .expect("as scripted")
            .state,
        BatchState::Canceling
    );
    assert_eq!(
        batch
            .status(&submitted.id)
            .await
            .expect("as scripted")
            .state,
        BatchState::Ended
    );
    let lines = all_lines(&batch, &submitted.id).await;
    assert!(matches!(lines[0].outcome, BatchOutcome::Canceled));
}

#[tokio::test]
async fn a_results_url_on_another_origin_never_gets_the_key() {
    let server = FakeProvider::start().await;
    let batch = anthropic_batch(&server);
    server.push_for(
        "/v1/messages/batches/msgbatch_9",
        Reply::json(
            200,
            json!({"id": "msgbatch_9", "type": "message_batch", "processing_status": "ended",
                   "results_url": "http://attacker.invalid/results"}),
        ),
    );
    let error = match batch.results("msgbatch_9").await {
        Err(error) => error,
        Ok(_) => panic!("followed a foreign results_url"),
    };
    assert!(
        error.to_string().contains("not on the API's origin"),
        "{error}"
    );
    // Only the status was asked, on the fake itself.
    assert_eq!(server.requests().len(), 1);
}

/// What of `value` Gemini's discovery document does not describe under `schema`:
/// unknown keys, values outside an enum, the wrong JSON type (free-form values and
/// maps end the walk).
fn discovery_errors(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    let schemas =
        SCHEMAS.get_or_init(|| document("gemini-v1beta.discovery.json")["schemas"].clone());
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(name) => &schemas[name],
        None => schema,
    };
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let fits = match (kind, value) {
        ("any", _) => return,
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("integer" | "number", Value::Number(_)) => true,
        ("string", Value::Number(_)) => schema.get("format").is_some(),
        _ => false,
    };
    if !fits {
        errors.push(format!("{path}: a {kind} expected, got {value}"));
        return;
    }
    if let (Some(allowed), Value::String(text)) = (schema.get("enum"), value)
        && !allowed.as_array().is_some_and(|a| a.contains(&json!(text)))
    {
        errors.push(format!("{path}: `{text}` is not one of {allowed}"));
    }
    match value {
        Value::Object(object) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (key, child) in object {
                match properties.get(key) {
                    Some(property) => {
                        discovery_errors(child, property, &format!("{path}.{key}"), errors)
                    }
                    None => errors.push(format!("{path}.{key} is not in the description")),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                discovery_errors(item, &schema["items"], &format!("{path}[]"), errors);
            }
        }
        _ => {}
    }
}

fn gemini_batch_errors(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    discovery_errors(
        body,
        &json!({"$ref": "BatchGenerateContentRequest"}),
        "",
        &mut errors,
    );
    errors
}

#[tokio::test]
async fn gemini_sends_inline_requests_polls_the_operation_and_reads_inlined_responses() {
    use instructor_providers::gemini::{Gemini, GeminiBatch, GeminiConfig};
    use instructor_providers::testing::gemini::GenerateContent;
    let server = FakeProvider::start().await;
    let batch = GeminiBatch::new(GeminiConfig::new(server.origin()).with_api_key(KEY));
    server.push(GenerateContent::function_call("Person", r#"{"name": "Ann", "age": 30}"#).reply());
    server.push(Reply::json(
        429,
        json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
    ));
    let (a, b) = (
        request("gemini-2.5-flash", "Ann is 30"),
        request("gemini-2.5-flash", "Bo is 41"),
    );
    let requests = [
        BatchRequest {
            custom_id: "a",
            request: &a,
        },
        BatchRequest {
            custom_id: "b",
            request: &b,
        },
    ];
    let submitted = batch.submit(&requests).await.expect("submitted");
    assert_eq!(submitted.state, BatchState::Pending);
    assert!(submitted.id.starts_with("batches/"), "{}", submitted.id);
    let create = &server.requests_for("/v1beta/models/gemini-2.5-flash:batchGenerateContent")[0];
    assert_eq!(create.header("x-goog-api-key"), Some(KEY));
    let body = create.json().expect("as scripted");
    let found = gemini_batch_errors(body);
    assert!(found.is_empty(), "{found:#?}\n{body:#}");
    let mut bad = body.clone();
    bad["batch"]["inputConfig"]["requests"]["requests"][0]["request"]["contents"][0]["role"] =
        json!(7);
    bad["batch"]["inputs"] = json!([]);
    assert_eq!(
        gemini_batch_errors(&bad).len(),
        2,
        "the walk catches a wrong type and an unknown key"
    );
    let lines = body["batch"]["inputConfig"]["requests"]["requests"]
        .as_array()
        .expect("as scripted");
    assert_eq!(lines[1]["metadata"]["key"], "b");
    assert_eq!(
        lines[0]["request"],
        Gemini::new(GeminiConfig::new(server.origin()))
            .request_body(&a)
            .expect("as scripted")
    );

    assert_eq!(
        batch
            .status(&submitted.id)
            .await
            .expect("as scripted")
            .state,
        BatchState::Running
    );
    let ended = batch.status(&submitted.id).await.expect("as scripted");
    assert_eq!(ended.state, BatchState::Ended);
    assert_eq!(
        ended.counts.map(|c| (c.total, c.succeeded, c.failed)),
        Some((2, 1, 1))
    );
    let lines = all_lines(&batch, &submitted.id).await;
    assert_eq!(lines[0].custom_id, "a");
    match &lines[0].outcome {
        BatchOutcome::Response(response) => assert_eq!(response.tool_calls[0].name, "Person"),
        other => panic!("{other:?}"),
    }
    match &lines[1].outcome {
        BatchOutcome::Error(ProviderError::Stream {
            message, status, ..
        }) => {
            assert_eq!((message.as_str(), *status), ("quota", Some(429)));
        }
        other => panic!("{other:?}"),
    }
    // Mixed models cannot share a batch (the model is in the path).
    let c = request("gemini-2.5-pro", "Cy is 52");
    let error = batch
        .submit(&[
            BatchRequest {
                custom_id: "a",
                request: &a,
            },
            BatchRequest {
                custom_id: "c",
                request: &c,
            },
        ])
        .await
        .expect_err("refused as scripted");
    assert!(matches!(error, ProviderError::Unsupported(_)), "{error:?}");
    // A batch name that would walk the URL is refused before any request.
    let before = server.requests().len();
    assert!(batch.status("batches/../../x").await.is_err());
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn a_result_file_cut_anywhere_reads_the_same_lines() {
    let completion = openai::ChatCompletion::content("hi").to_json();
    let line = |id: &str| {
        json!({"id": "r", "custom_id": id, "response": {"status_code": 200, "body": completion}, "error": null})
            .to_string()
    };
    // Blank lines, CRLF-free JSON lines, a line that is not JSON, and no final newline.
    let file = format!("{}\n\n{}\nnot json\n{}", line("a"), line("b"), line("c"));
    for step in [1usize, 3, 7, 64] {
        let server = FakeProvider::start().await;
        let batch = openai_batch(&server);
        server.push_for(
            "/v1/batches/batch_x",
            Reply::json(
                200,
                json!({"id": "batch_x", "status": "completed", "output_file_id": "file-x", "error_file_id": null}),
            ),
        );
        let cuts: Vec<usize> = (step..file.len()).step_by(step).collect();
        server.push_for(
            "/v1/files/file-x/content",
            Reply::status(200).body(file.clone()).cut_at(&cuts),
        );
        let lines = all_lines(&batch, "batch_x").await;
        let ids: Vec<&str> = lines.iter().map(|l| l.custom_id.as_str()).collect();
        // The unreadable line is kept, attributed to no item.
        assert_eq!(ids, ["a", "b", "", "c"], "cut every {step} bytes");
        assert!(matches!(lines[3].outcome, BatchOutcome::Response(_)));
        assert!(matches!(
            lines[2].outcome,
            BatchOutcome::Error(ProviderError::Decode { .. })
        ));
    }
}
