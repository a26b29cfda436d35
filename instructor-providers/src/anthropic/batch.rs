//! Anthropic Message Batches: the lines created at once
//! (`POST /v1/messages/batches`, `{requests: [{custom_id, params}]}`), polled
//! (`GET /v1/messages/batches/{id}`), canceled (`POST .../{id}/cancel`), and the
//! results read line by line from the batch's `results_url` (followed only on the
//! API's own origin: the key goes with it). Each line's `params` is the body
//! [`Anthropic::request_body`] gives for a single request; each succeeded line's
//! message is read by the same parser as a single answer.

use super::response::read_message;
use super::{Anthropic, AnthropicConfig};
use crate::batch::{BatchHttp, BatchLimits, count, line_stream, same_origin, status, unattributed};
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

/// Anthropic's batch engine, for [`instructor_core::client::Batch`]: made from the
/// same config as the [`Anthropic`] client whose extractions it sends.
///
/// ```
/// use instructor_providers::anthropic::{AnthropicBatch, AnthropicConfig};
///
/// let batch = AnthropicBatch::new(AnthropicConfig::new("https://api.anthropic.com").with_api_key("sk-ant-secret"));
/// assert!(!format!("{batch:?}").contains("sk-ant-secret"));
/// ```
pub struct AnthropicBatch {
    anthropic: Anthropic,
    http: BatchHttp,
    base: String,
}

impl fmt::Debug for AnthropicBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicBatch")
            .field("config", self.anthropic.config())
            .finish_non_exhaustive()
    }
}

impl AnthropicBatch {
    /// The batch engine of the API `config` describes, with the default limits.
    pub fn new(config: AnthropicConfig) -> Self {
        AnthropicBatch::with_limits(config, BatchLimits::default())
    }

    /// The batch engine with size limits of its own.
    pub fn with_limits(config: AnthropicConfig, limits: BatchLimits) -> Self {
        let http = BatchHttp::new(
            config.header_pairs(),
            config.api_key.as_ref(),
            config.timeout,
            limits,
        );
        let base = config.base_url.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base).to_owned();
        AnthropicBatch {
            anthropic: Anthropic::new(config),
            http,
            base,
        }
    }

    /// Anthropic's batch engine with the environment [`Anthropic::from_env`] reads.
    pub fn from_env() -> Self {
        AnthropicBatch::new(AnthropicConfig::from_env())
    }

    /// The body creating a batch of `requests`: `{requests: [{custom_id, params}]}`.
    ///
    /// # Errors
    ///
    /// As [`Anthropic::request_body`], for the first line that cannot be built.
    pub fn create_body(&self, requests: &[BatchRequest<'_>]) -> Result<Value, ProviderError> {
        let lines = requests
            .iter()
            .map(|line| {
                Ok(json!({
                    "custom_id": line.custom_id,
                    "params": self.anthropic.request_body(line.request)?,
                }))
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        Ok(json!({ "requests": lines }))
    }

    fn batches_url(&self) -> String {
        format!("{}/v1/messages/batches", self.base)
    }

    fn batch_status(&self, batch: &Value) -> Result<(BatchStatus, Option<String>), ProviderError> {
        let id = self.http.server_id(batch.get("id"), "batch id")?;
        let state = match batch
            .get("processing_status")
            .and_then(Value::as_str)
            .unwrap_or("")
        {
            "in_progress" => BatchState::Running,
            "canceling" => BatchState::Canceling,
            "ended" => BatchState::Ended,
            other => self.http.other_state(other),
        };
        let counts = batch.get("request_counts").map(|counts| {
            let failed = ["errored", "canceled", "expired"]
                .iter()
                .map(|key| count(counts.get(*key)))
                .sum::<u64>();
            let succeeded = count(counts.get("succeeded"));
            BatchCounts {
                total: succeeded + failed + count(counts.get("processing")),
                succeeded,
                failed,
            }
        });
        let results_url = batch
            .get("results_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok((status(id, state, counts), results_url))
    }

    async fn get_batch(&self, id: &str) -> Result<Value, ProviderError> {
        let id = self.http.server_id(Some(&Value::from(id)), "batch id")?;
        self.http
            .json(Method::GET, &format!("{}/{id}", self.batches_url()), None)
            .await
    }

    async fn submit_lines(
        &self,
        requests: &[BatchRequest<'_>],
    ) -> Result<BatchStatus, ProviderError> {
        let body = self.create_body(requests)?;
        let body = serde_json::to_vec(&body).map_err(|error| {
            ProviderError::Unsupported(format!("cannot serialize the batch: {error}"))
        })?;
        let created = self
            .http
            .json(
                Method::POST,
                &self.batches_url(),
                Some((body, "application/json")),
            )
            .await?;
        Ok(self.batch_status(&created)?.0)
    }

    async fn open_results(&self, id: &str) -> Result<BatchLines<'_>, ProviderError> {
        let batch = self.get_batch(id).await?;
        let (status, results_url) = self.batch_status(&batch)?;
        let Some(url) = results_url.filter(|_| status.state.is_terminal()) else {
            return Err(ProviderError::Unsupported(format!(
                "the batch has no results yet ({:?})",
                status.state
            )));
        };
        if !same_origin(&url, &self.base) {
            return Err(ProviderError::Unsupported(format!(
                "the results_url {} is not on the API's origin; the key is not sent there",
                self.http.redactor().id(url)
            )));
        }
        let http = &self.http;
        Ok(line_stream(http, vec![url], move |line| {
            parse_line(http, line)
        }))
    }
}

#[derive(Deserialize)]
struct ResultLine<'a> {
    custom_id: Option<String>,
    #[serde(borrow)]
    result: Option<LineResult<'a>>,
}

#[derive(Deserialize)]
struct LineResult<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<Value>,
}

fn parse_line(http: &BatchHttp, bytes: &[u8]) -> BatchLine {
    let redactor = http.redactor();
    let line: ResultLine<'_> = match serde_json::from_slice(bytes) {
        Ok(line) => line,
        Err(error) => {
            return unattributed(http.decode(format!("a result line is not JSON: {error}"), bytes));
        }
    };
    let (Some(custom_id), Some(result)) = (line.custom_id, line.result) else {
        return unattributed(
            http.decode("a result line has no custom_id or result".to_owned(), bytes),
        );
    };
    let custom_id = redactor.id(custom_id);
    let outcome = match result.kind.as_str() {
        "succeeded" => match result.message {
            Some(message) => match read_message(message.get().as_bytes(), redactor, true) {
                Ok(read) => BatchOutcome::Response(Box::new(read)),
                Err(error) => BatchOutcome::Error(error),
            },
            None => BatchOutcome::Error(
                http.decode("a succeeded result has no message".to_owned(), bytes),
            ),
        },
        "expired" => BatchOutcome::Expired,
        "canceled" => BatchOutcome::Canceled,
        "errored" => {
            // `{"type": "error", "error": {"type": ..., "message": ...}}`
            let inner = result
                .error
                .as_ref()
                .and_then(|e| e.get("error"))
                .or(result.error.as_ref());
            let text = |key: &str| {
                inner
                    .and_then(|e| e.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            BatchOutcome::Error(redactor.error(ProviderError::Stream {
                kind: redactor.id(text("type")),
                message: redactor.bounded(text("message"), MAX_MESSAGE_BYTES),
                status: None,
            }))
        }
        other => BatchOutcome::Error(http.decode(
            format!(
                "a result of unknown type {:?}",
                redactor.id(other.to_owned())
            ),
            bytes,
        )),
    };
    BatchLine { custom_id, outcome }
}

impl BatchProvider for AnthropicBatch {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn submit<'a>(
        &'a self,
        requests: &'a [BatchRequest<'a>],
    ) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(self.submit_lines(requests))
    }

    fn status<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move { Ok(self.batch_status(&self.get_batch(id).await?)?.0) })
    }

    fn results<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchLines<'a>, ProviderError>> {
        Box::pin(self.open_results(id))
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move {
            let id = self.http.server_id(Some(&Value::from(id)), "batch id")?;
            let batch = self
                .http
                .json(
                    Method::POST,
                    &format!("{}/{id}/cancel", self.batches_url()),
                    None,
                )
                .await?;
            Ok(self.batch_status(&batch)?.0)
        })
    }
}
