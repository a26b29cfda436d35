//! OpenAI Batch: the lines uploaded as one JSONL file (`POST {base}/files`, purpose
//! `batch`), the batch created (`POST {base}/batches`, endpoint
//! `/v1/chat/completions`, window `24h`), polled (`GET {base}/batches/{id}`), canceled
//! (`POST {base}/batches/{id}/cancel`), and its output and error files read line by
//! line (`GET {base}/files/{id}/content`). Each line's body is the body
//! [`OpenAi::request_body`] gives for a single request; each answered line is read by
//! the same parser as a single answer.

use super::{OpenAi, OpenAiConfig, PathStyle, config_headers, read_response};
use crate::batch::{
    BatchHttp, BatchLimits, count, line_stream, multipart, same_origin, status, unattributed,
};
use crate::http::redact::MAX_MESSAGE_BYTES;
use instructor_core::chat::{BoxFuture, ProviderError};
use instructor_core::client::{
    BatchCounts, BatchLine, BatchLines, BatchOutcome, BatchProvider, BatchRequest, BatchState,
    BatchStatus,
};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::fmt;

/// The endpoint every line of a batch calls.
pub const BATCH_ENDPOINT: &str = "/v1/chat/completions";

/// OpenAI's batch engine, for [`instructor_core::client::Batch`]: made from the same
/// config as the [`OpenAi`] client whose extractions it sends.
///
/// ```
/// use instructor_providers::openai::{OpenAiBatch, OpenAiConfig};
///
/// let batch = OpenAiBatch::new(OpenAiConfig::new("https://api.openai.com/v1").with_api_key("sk-secret"));
/// assert!(!format!("{batch:?}").contains("sk-secret"));
/// ```
pub struct OpenAiBatch {
    openai: OpenAi,
    http: BatchHttp,
}

impl fmt::Debug for OpenAiBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiBatch")
            .field("config", self.openai.config())
            .finish_non_exhaustive()
    }
}

impl OpenAiBatch {
    /// The batch engine of the server `config` describes, with the default limits.
    pub fn new(config: OpenAiConfig) -> Self {
        OpenAiBatch::with_limits(config, BatchLimits::default())
    }

    /// The batch engine with size limits of its own.
    pub fn with_limits(config: OpenAiConfig, limits: BatchLimits) -> Self {
        let http = BatchHttp::new(
            config_headers(&config),
            config.api_key.as_ref(),
            config.timeout,
            limits,
        );
        OpenAiBatch {
            openai: OpenAi::new(config),
            http,
        }
    }

    /// OpenAI's batch engine with the environment [`OpenAi::from_env`] reads.
    pub fn from_env() -> Self {
        OpenAiBatch::new(crate::presets::Preset::OpenAi.config_from_env())
    }

    /// The JSONL file of `requests`: one `{custom_id, method, url, body}` line each.
    ///
    /// # Errors
    ///
    /// As [`OpenAi::request_body`], for the first line that cannot be built.
    pub fn input_file(&self, requests: &[BatchRequest<'_>]) -> Result<Vec<u8>, ProviderError> {
        let mut file = Vec::new();
        for line in requests {
            let body = self.openai.request_body(line.request)?;
            let line = json!({
                "custom_id": line.custom_id,
                "method": "POST",
                "url": BATCH_ENDPOINT,
                "body": body,
            });
            serde_json::to_writer(&mut file, &line).map_err(|error| {
                ProviderError::Unsupported(format!("cannot serialize a batch line: {error}"))
            })?;
            file.push(b'\n');
        }
        Ok(file)
    }

    fn base(&self) -> Result<&str, ProviderError> {
        match self.openai.config().path {
            PathStyle::Standard => Ok(self.openai.config().base_url.trim_end_matches('/')),
            _ => Err(ProviderError::Unsupported(
                "batches through Azure deployments are not supported".to_owned(),
            )),
        }
    }

    async fn submit_lines(
        &self,
        requests: &[BatchRequest<'_>],
    ) -> Result<BatchStatus, ProviderError> {
        let base = self.base()?;
        let file = self.input_file(requests)?;
        let (body, content_type) = multipart(
            &[("purpose", "batch")],
            "file",
            "batch.jsonl",
            "application/jsonl",
            &file,
        );
        let uploaded = self
            .http
            .json(
                Method::POST,
                &format!("{base}/files"),
                Some((body, &content_type)),
            )
            .await?;
        let file_id = self.http.server_id(uploaded.get("id"), "file id")?;
        let create = json!({
            "input_file_id": file_id,
            "endpoint": BATCH_ENDPOINT,
            "completion_window": "24h",
        });
        let body = serde_json::to_vec(&create).unwrap_or_default();
        let created = self
            .http
            .json(
                Method::POST,
                &format!("{base}/batches"),
                Some((body, "application/json")),
            )
            .await?;
        self.batch_status(&created)
    }

    /// The status a batch object describes.
    fn batch_status(&self, batch: &Value) -> Result<BatchStatus, ProviderError> {
        let id = self.http.server_id(batch.get("id"), "batch id")?;
        let state = match batch.get("status").and_then(Value::as_str).unwrap_or("") {
            "validating" => BatchState::Pending,
            "in_progress" => BatchState::Running,
            "finalizing" => BatchState::Finalizing,
            "completed" => BatchState::Ended,
            "failed" => BatchState::Failed,
            "expired" => BatchState::Expired,
            "cancelling" => BatchState::Canceling,
            "cancelled" => BatchState::Canceled,
            other => self.http.other_state(other),
        };
        let counts = batch.get("request_counts").map(|counts| BatchCounts {
            total: count(counts.get("total")),
            succeeded: count(counts.get("completed")),
            failed: count(counts.get("failed")),
        });
        Ok(status(id, state, counts))
    }

    async fn get_batch(&self, id: &str) -> Result<Value, ProviderError> {
        let base = self.base()?;
        self.http
            .json(Method::GET, &format!("{base}/batches/{id}"), None)
            .await
    }

    async fn open_results(&self, id: &str) -> Result<BatchLines<'_>, ProviderError> {
        let base = self.base()?;
        let batch = self.get_batch(id).await?;
        let status = self.batch_status(&batch)?;
        if !status.state.is_terminal() {
            return Err(ProviderError::Unsupported(format!(
                "the batch is not done yet ({:?})",
                status.state
            )));
        }
        let mut urls = Vec::new();
        for field in ["output_file_id", "error_file_id"] {
            if let Some(file) = batch.get(field).filter(|v| !v.is_null()) {
                let file = self.http.server_id(Some(file), field)?;
                let url = format!("{base}/files/{file}/content");
                // The id's characters cannot leave the origin; checked all the same.
                if !same_origin(&url, base) {
                    return Err(ProviderError::Unsupported(format!(
                        "the {field} does not stay on the API's origin"
                    )));
                }
                urls.push(url);
            }
        }
        let http = &self.http;
        Ok(line_stream(http, urls, move |line| parse_line(http, line)))
    }
}

/// One line of an output or error file.
#[derive(Deserialize)]
struct OutputLine<'a> {
    custom_id: Option<String>,
    #[serde(borrow, default)]
    response: Option<LineResponse<'a>>,
    #[serde(default)]
    error: Option<LineError>,
}

#[derive(Deserialize)]
struct LineResponse<'a> {
    #[serde(default)]
    status_code: u16,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LineError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn parse_line(http: &BatchHttp, bytes: &[u8]) -> BatchLine {
    let redactor = http.redactor();
    let line: OutputLine<'_> = match serde_json::from_slice(bytes) {
        Ok(line) => line,
        Err(error) => {
            return unattributed(http.decode(format!("a result line is not JSON: {error}"), bytes));
        }
    };
    let Some(custom_id) = line.custom_id else {
        return unattributed(http.decode("a result line has no custom_id".to_owned(), bytes));
    };
    let custom_id = redactor.id(custom_id);
    let outcome = match (line.response, line.error) {
        (_, Some(error)) => {
            let code = error.code.unwrap_or_default();
            match code.as_str() {
                "batch_expired" => BatchOutcome::Expired,
                "batch_cancelled" => BatchOutcome::Canceled,
                _ => BatchOutcome::Error(redactor.error(ProviderError::Stream {
                    kind: redactor.id(code),
                    message: redactor.bounded(error.message.unwrap_or_default(), MAX_MESSAGE_BYTES),
                    status: None,
                })),
            }
        }
        (Some(response), None) if (200..300).contains(&response.status_code) => {
            match response.body {
                Some(body) => match read_response(body.get().as_bytes(), redactor, true) {
                    Ok(read) => BatchOutcome::Response(Box::new(read)),
                    Err(error) => BatchOutcome::Error(error),
                },
                None => BatchOutcome::Error(
                    http.decode("an answered result line has no body".to_owned(), bytes),
                ),
            }
        }
        (Some(response), None) => BatchOutcome::Error(
            redactor.error(ProviderError::Status {
                status: response.status_code,
                body: response
                    .body
                    .map(|body| {
                        redactor.preview(body.get().as_bytes(), crate::http::redact::MAX_BODY_BYTES)
                    })
                    .unwrap_or_default(),
                retry_after: None,
                request_id: response.request_id.map(|id| redactor.id(id)),
            }),
        ),
        (None, None) => BatchOutcome::Error(http.decode(
            "a result line has neither a response nor an error".to_owned(),
            bytes,
        )),
    };
    BatchLine { custom_id, outcome }
}

impl BatchProvider for OpenAiBatch {
    fn name(&self) -> &str {
        &self.openai.config().name
    }

    fn submit<'a>(
        &'a self,
        requests: &'a [BatchRequest<'a>],
    ) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(self.submit_lines(requests))
    }

    fn status<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move {
            let id = self.http.server_id(Some(&Value::from(id)), "batch id")?;
            let batch = self.get_batch(&id).await?;
            self.batch_status(&batch)
        })
    }

    fn results<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchLines<'a>, ProviderError>> {
        Box::pin(async move {
            self.http.server_id(Some(&Value::from(id)), "batch id")?;
            self.open_results(id).await
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move {
            let base = self.base()?;
            let id = self.http.server_id(Some(&Value::from(id)), "batch id")?;
            let batch = self
                .http
                .json(Method::POST, &format!("{base}/batches/{id}/cancel"), None)
                .await?;
            self.batch_status(&batch)
        })
    }
}
