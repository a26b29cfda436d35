//! Gemini batch mode: the lines sent inline
//! (`POST {base}/v1beta/models/{model}:batchGenerateContent`,
//! `{batch: {displayName, inputConfig: {requests: {requests: [{request, metadata: {key}}]}}}}`),
//! the long-running operation polled (`GET {base}/v1beta/batches/{id}`), canceled
//! (`POST .../batches/{id}:cancel`), and the inlined responses read from the finished
//! operation, matched to items by `metadata.key`. Each line's `request` is the body
//! [`Gemini::request_body`] gives for a single request; each response is read by the
//! same parser as a single answer. Every line of one batch must name the same model
//! (the model is in the path). Vertex AI batch prediction (through Cloud Storage or
//! BigQuery) is not supported.

use super::response::read_response;
use super::{Gemini, GeminiConfig, Target};
use crate::batch::{BatchHttp, BatchLimits, count, status, unattributed};
use crate::http::redact::MAX_MESSAGE_BYTES;
use instructor_core::chat::{BoxFuture, ProviderError};
use instructor_core::client::{
    BatchCounts, BatchLine, BatchLines, BatchOutcome, BatchProvider, BatchRequest, BatchState,
    BatchStatus,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::fmt;

/// Gemini's batch engine, for [`instructor_core::client::Batch`]: made from the same
/// config as the [`Gemini`] client whose extractions it sends.
///
/// ```
/// use instructor_providers::gemini::{GeminiBatch, GeminiConfig};
///
/// let batch = GeminiBatch::new(GeminiConfig::new("https://generativelanguage.googleapis.com").with_api_key("AIza-secret"));
/// assert!(!format!("{batch:?}").contains("AIza-secret"));
/// ```
pub struct GeminiBatch {
    gemini: Gemini,
    http: BatchHttp,
}

impl fmt::Debug for GeminiBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiBatch")
            .field("config", self.gemini.config())
            .finish_non_exhaustive()
    }
}

impl GeminiBatch {
    /// The batch engine of the API `config` describes, with the default limits.
    pub fn new(config: GeminiConfig) -> Self {
        GeminiBatch::with_limits(config, BatchLimits::default())
    }

    /// The batch engine with size limits of its own (`max_response_bytes` bounds the
    /// finished operation, which holds every inlined response).
    pub fn with_limits(config: GeminiConfig, limits: BatchLimits) -> Self {
        let http = BatchHttp::new(
            config.header_pairs(),
            config.api_key.as_ref(),
            config.timeout,
            limits,
        );
        GeminiBatch {
            gemini: Gemini::new(config),
            http,
        }
    }

    /// Gemini's batch engine with the environment [`Gemini::from_env`] reads.
    pub fn from_env() -> Self {
        GeminiBatch::new(GeminiConfig::from_env())
    }

    fn check_target(&self) -> Result<(), ProviderError> {
        match self.gemini.config().target {
            Target::Gemini { .. } => Ok(()),
            Target::Vertex { .. } => Err(ProviderError::Unsupported(
                "batches through Vertex AI are not supported".to_owned(),
            )),
        }
    }

    /// The `{base}/{version}` root of the API.
    fn root(&self) -> Result<String, ProviderError> {
        let endpoint = self.gemini.config().endpoint("m", "x")?;
        Ok(endpoint
            .strip_suffix("/models/m:x")
            .unwrap_or(&endpoint)
            .to_owned())
    }

    /// The URL and body creating a batch of `requests`.
    ///
    /// # Errors
    ///
    /// As [`Gemini::request_body`], for the first line that cannot be built; lines that
    /// name different models.
    pub fn create_request(
        &self,
        requests: &[BatchRequest<'_>],
    ) -> Result<(String, Value), ProviderError> {
        self.check_target()?;
        let model = requests
            .first()
            .map(|line| line.request.model.as_str())
            .unwrap_or_default();
        if let Some(other) = requests.iter().find(|l| l.request.model != model) {
            return Err(ProviderError::Unsupported(format!(
                "a Gemini batch runs one model: `{model}` and `{}`",
                other.request.model
            )));
        }
        let lines = requests
            .iter()
            .map(|line| {
                Ok(json!({
                    "request": self.gemini.request_body(line.request)?,
                    "metadata": {"key": line.custom_id},
                }))
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let url = self
            .gemini
            .config()
            .endpoint(model, "batchGenerateContent")?;
        let body = json!({
            "batch": {
                "displayName": "instructor-batch",
                "inputConfig": {"requests": {"requests": lines}},
            }
        });
        Ok((url, body))
    }

    /// The batch's name (`batches/...`), checked: it goes into URLs.
    fn name(&self, value: Option<&Value>) -> Result<String, ProviderError> {
        let name = self.http.server_id(value, "batch name")?;
        if name.starts_with("batches/") && name.matches('/').count() == 1 {
            Ok(name)
        } else {
            Err(ProviderError::Decode {
                message: "the batch name is not `batches/{id}`".to_owned(),
                body: name,
            })
        }
    }

    fn operation_status(&self, operation: &Value) -> Result<BatchStatus, ProviderError> {
        let name = self.name(operation.get("name"))?;
        let metadata = operation.get("metadata");
        let state = metadata
            .and_then(|m| m.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut state = match state {
            "BATCH_STATE_PENDING" => BatchState::Pending,
            "BATCH_STATE_RUNNING" => BatchState::Running,
            "BATCH_STATE_SUCCEEDED" => BatchState::Ended,
            "BATCH_STATE_FAILED" => BatchState::Failed,
            "BATCH_STATE_CANCELLED" => BatchState::Canceled,
            "BATCH_STATE_EXPIRED" => BatchState::Expired,
            "" | "BATCH_STATE_UNSPECIFIED" => BatchState::Pending,
            other => self.http.other_state(other),
        };
        if operation.get("done") == Some(&Value::Bool(true)) && !state.is_terminal() {
            state = if operation.get("error").is_some() {
                BatchState::Failed
            } else {
                BatchState::Ended
            };
        }
        let counts = metadata
            .and_then(|m| m.get("batchStats"))
            .map(|stats| BatchCounts {
                total: count(stats.get("requestCount")),
                succeeded: count(stats.get("successfulRequestCount")),
                failed: count(stats.get("failedRequestCount")),
            });
        Ok(status(name, state, counts))
    }

    async fn get_operation(&self, id: &str) -> Result<Value, ProviderError> {
        self.check_target()?;
        let name = self.name(Some(&Value::from(id)))?;
        self.http
            .json(Method::GET, &format!("{}/{name}", self.root()?), None)
            .await
    }

    async fn submit_lines(
        &self,
        requests: &[BatchRequest<'_>],
    ) -> Result<BatchStatus, ProviderError> {
        let (url, body) = self.create_request(requests)?;
        let body = serde_json::to_vec(&body).map_err(|error| {
            ProviderError::Unsupported(format!("cannot serialize the batch: {error}"))
        })?;
        let operation = self
            .http
            .json(Method::POST, &url, Some((body, "application/json")))
            .await?;
        self.operation_status(&operation)
    }

    async fn open_results(&self, id: &str) -> Result<BatchLines<'_>, ProviderError> {
        let operation = self.get_operation(id).await?;
        let status = self.operation_status(&operation)?;
        if !status.state.is_terminal() {
            return Err(ProviderError::Unsupported(format!(
                "the batch is not done yet ({:?})",
                status.state
            )));
        }
        // The finished operation's `response`, or the batch in its metadata.
        let output = operation
            .get("response")
            .or_else(|| operation.get("metadata").and_then(|m| m.get("output")));
        if output.and_then(|o| o.get("responsesFile")).is_some() {
            return Err(ProviderError::Unsupported(
                "the batch's responses are in a file; only inlined responses are read".to_owned(),
            ));
        }
        let responses = output
            .and_then(|o| o.get("inlinedResponses"))
            .and_then(|r| r.get("inlinedResponses"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let lines: Vec<Result<BatchLine, ProviderError>> = responses
            .iter()
            .map(|response| Ok(self.line(response)))
            .collect();
        Ok(Box::pin(futures_util::stream::iter(lines)))
    }

    fn line(&self, inlined: &Value) -> BatchLine {
        let redactor = self.http.redactor();
        let Some(key) = inlined
            .get("metadata")
            .and_then(|m| m.get("key"))
            .and_then(Value::as_str)
        else {
            let bytes = inlined.to_string();
            return unattributed(self.http.decode(
                "an inlined response has no metadata.key".to_owned(),
                bytes.as_bytes(),
            ));
        };
        let custom_id = redactor.id(key.to_owned());
        let outcome = if let Some(error) = inlined.get("error") {
            let text = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let code = error.get("code").and_then(Value::as_u64).unwrap_or(0);
            BatchOutcome::Error(redactor.error(ProviderError::Stream {
                kind: format!("status {code}"),
                message: redactor.bounded(text, MAX_MESSAGE_BYTES),
                status: u16::try_from(code).ok().filter(|c| *c >= 400),
            }))
        } else if let Some(response) = inlined.get("response") {
            let bytes = serde_json::to_vec(response).unwrap_or_default();
            match read_response(&bytes, redactor, true) {
                Ok(read) => BatchOutcome::Response(Box::new(read)),
                Err(error) => BatchOutcome::Error(error),
            }
        } else {
            BatchOutcome::Error(self.http.decode(
                "an inlined response has neither a response nor an error".to_owned(),
                inlined.to_string().as_bytes(),
            ))
        };
        BatchLine { custom_id, outcome }
    }
}

impl BatchProvider for GeminiBatch {
    fn name(&self) -> &str {
        "gemini"
    }

    fn submit<'a>(
        &'a self,
        requests: &'a [BatchRequest<'a>],
    ) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(self.submit_lines(requests))
    }

    fn status<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move { self.operation_status(&self.get_operation(id).await?) })
    }

    fn results<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchLines<'a>, ProviderError>> {
        Box::pin(self.open_results(id))
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(async move {
            self.check_target()?;
            let name = self.name(Some(&Value::from(id)))?;
            self.http
                .json(
                    Method::POST,
                    &format!("{}/{name}:cancel", self.root()?),
                    Some((b"{}".to_vec(), "application/json")),
                )
                .await?;
            self.operation_status(&self.get_operation(&name).await?)
        })
    }
}
