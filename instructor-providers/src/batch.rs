//! The HTTP side of the providers' batch engines (OpenAI Batch, Anthropic Message
//! Batches, Gemini batch mode), with the same hardening as every provider request: redirects never
//! followed, bodies bounded, the key removed from everything read, ids from the server
//! checked, result files read line by line with a cap on each line and on the total,
//! and result URLs followed only on the configured API's own origin (the key is
//! never sent elsewhere).

use crate::http::errors::{self, cause, display_url, error_chain, request_id, retry_after};
use crate::http::redact::{MAX_BODY_BYTES, MAX_ID_BYTES, Redactor};
use crate::openai::ApiKey;
use instructor_core::chat::ProviderError;
use instructor_core::client::{BatchCounts, BatchState, BatchStatus};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// The default size limit of one JSON answer of a batch API (a status, a created
/// batch, Gemini's operation with its inlined responses): 64 MiB.
pub const DEFAULT_MAX_BATCH_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The default size limit of one line of a result file: 16 MiB.
pub const DEFAULT_MAX_RESULT_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The default size limit of a whole result file, read line by line: 4 GiB.
pub const DEFAULT_MAX_RESULT_FILE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Size limits of what the batch engines download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BatchLimits {
    /// One JSON answer (status, creation, Gemini's inlined responses).
    pub max_response_bytes: usize,
    /// One line of a result file.
    pub max_line_bytes: usize,
    /// A whole result file.
    pub max_file_bytes: u64,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_response_bytes: DEFAULT_MAX_BATCH_RESPONSE_BYTES,
            max_line_bytes: DEFAULT_MAX_RESULT_LINE_BYTES,
            max_file_bytes: DEFAULT_MAX_RESULT_FILE_BYTES,
        }
    }
}

impl BatchLimits {
    /// These limits with `bytes` as the limit of one result line.
    pub fn with_max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes;
        self
    }

    /// These limits with `bytes` as the limit of one JSON answer.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// These limits with `bytes` as the limit of a whole result file.
    pub fn with_max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }
}

/// One provider's batch HTTP client.
pub(crate) struct BatchHttp {
    client: Result<reqwest::Client, String>,
    headers: Result<HeaderMap, ProviderError>,
    redactor: Redactor,
    timeout: Option<Duration>,
    pub(crate) limits: BatchLimits,
}

impl BatchHttp {
    pub(crate) fn new(
        headers: Result<HeaderMap, ProviderError>,
        key: Option<&ApiKey>,
        timeout: Option<Duration>,
        limits: BatchLimits,
    ) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("instructor-rs/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(timeout) = timeout {
            builder = builder.connect_timeout(timeout);
        }
        let client = builder
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {}", error_chain(&error)));
        BatchHttp {
            client,
            headers,
            redactor: Redactor::new(key),
            timeout,
            limits,
        }
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends a request; the response once its status is a success.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<reqwest::Response, ProviderError> {
        let client = self
            .client
            .as_ref()
            .map_err(|message| ProviderError::Transport {
                message: message.clone(),
            })?;
        let headers = self.headers.as_ref().map_err(Clone::clone)?;
        let mut builder = client.request(method, url).headers(headers.clone());
        if let Some((body, content_type)) = body {
            let content_type = HeaderValue::from_str(content_type)
                .map_err(|_| ProviderError::Unsupported("a bad content type".to_owned()))?;
            builder = builder.header(CONTENT_TYPE, content_type).body(body);
        }
        let exchange = async {
            let response = builder
                .send()
                .await
                .map_err(|error| self.transport_error(&error, url))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status.is_redirection() {
                return Err(self.redactor.error(errors::redirect(&response)));
            }
            let headers = response.headers().clone();
            let (bytes, _) = self
                .bounded_body(response, MAX_BODY_BYTES, url)
                .await
                .unwrap_or_default();
            Err(self.redactor.error(ProviderError::Status {
                status: status.as_u16(),
                body: self.redactor.preview(&bytes, MAX_BODY_BYTES),
                retry_after: retry_after(&headers, SystemTime::now()),
                request_id: request_id(&headers),
            }))
        };
        self.within_timeout(exchange, url).await
    }

    /// The body, up to `limit` bytes; whether it was longer.
    async fn bounded_body(
        &self,
        mut response: reqwest::Response,
        limit: usize,
        url: &str,
    ) -> Result<(Vec<u8>, bool), ProviderError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.transport_error(&error, url))?
        {
            if bytes.len().saturating_add(chunk.len()) > limit {
                let room = limit - bytes.len();
                bytes.extend_from_slice(&chunk[..room]);
                return Ok((bytes, true));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, false))
    }

    /// A JSON answer: `body` (if any) sent to `url` with `method`, the answer read
    /// within the size limit.
    pub(crate) async fn json(
        &self,
        method: Method,
        url: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<Value, ProviderError> {
        let response = self.send(method, url, body).await?;
        let limit = self.limits.max_response_bytes;
        let read = async {
            let (bytes, cut) = self.bounded_body(response, limit, url).await?;
            if cut {
                return Err(ProviderError::Decode {
                    message: format!("the answer is larger than the limit of {limit} bytes"),
                    body: self.redactor.preview(&bytes, 1024),
                });
            }
            serde_json::from_slice(&bytes).map_err(|error| {
                self.redactor.error(ProviderError::Decode {
                    message: format!("the answer is not JSON: {error}"),
                    body: self.redactor.preview(&bytes, MAX_BODY_BYTES),
                })
            })
        };
        self.within_timeout(read, url).await
    }

    /// The lines of the file at `url`, read as they arrive: each line within the line
    /// limit, the whole within the file limit, each wait for more bytes within the
    /// timeout. Empty lines are skipped.
    pub(crate) async fn lines(&self, url: &str) -> Result<LineReader<'_>, ProviderError> {
        let response = self.send(Method::GET, url, None).await?;
        Ok(LineReader {
            http: self,
            url: display_url(url),
            response: Some(response),
            buffer: Vec::new(),
            start: 0,
            searched: 0,
            total: 0,
        })
    }

    /// `exchange`, unless the timeout passes first. Not an `async fn` (see
    /// [`errors::within_timeout`]).
    fn within_timeout<'a, T: 'a>(
        &'a self,
        exchange: impl Future<Output = Result<T, ProviderError>> + 'a,
        url: &'a str,
    ) -> impl Future<Output = Result<T, ProviderError>> + 'a {
        use futures_util::future::FutureExt;
        errors::within_timeout(self.timeout, exchange, url)
            .map(|result| result.map_err(|error| self.redactor.error(error)))
    }

    fn transport_error(&self, error: &reqwest::Error, url: &str) -> ProviderError {
        self.redactor.error(errors::transport_error(error, url))
    }

    /// A decode error about `what`, with a preview of `bytes`.
    pub(crate) fn decode(&self, message: String, bytes: &[u8]) -> ProviderError {
        self.redactor.error(ProviderError::Decode {
            message,
            body: self.redactor.preview(bytes, MAX_BODY_BYTES),
        })
    }

    /// An id from the server: a string of `[A-Za-z0-9_.:/-]`, at most
    /// [`MAX_ID_BYTES`], without the key (it goes into URLs).
    pub(crate) fn server_id(
        &self,
        value: Option<&Value>,
        what: &str,
    ) -> Result<String, ProviderError> {
        let id = value.and_then(Value::as_str).unwrap_or_default();
        let ok = !id.is_empty()
            && id.len() <= MAX_ID_BYTES
            && id.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/')
            })
            && !id.contains("..");
        if ok && self.redactor.borrowed(id) == id {
            Ok(id.to_owned())
        } else {
            Err(ProviderError::Decode {
                message: format!("the server's {what} is missing or not a plain id"),
                body: self.redactor.id(id.to_owned()),
            })
        }
    }

    /// A state the library does not know, as text: redacted, bounded.
    pub(crate) fn other_state(&self, state: &str) -> BatchState {
        BatchState::Other(self.redactor.id(state.to_owned()))
    }
}

/// A status from its parts.
pub(crate) fn status(id: String, state: BatchState, counts: Option<BatchCounts>) -> BatchStatus {
    BatchStatus::new(id, state, counts)
}

/// A count in a status (`0` when absent or not a count).
pub(crate) fn count(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Reads a result file line by line.
pub(crate) struct LineReader<'a> {
    http: &'a BatchHttp,
    url: String,
    response: Option<reqwest::Response>,
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts.
    start: usize,
    /// How far `buffer` is known to hold no newline (each byte is searched once, however
    /// many reads a long line takes).
    searched: usize,
    total: u64,
}

impl LineReader<'_> {
    /// The next non-empty line, or `None` at the end of the file.
    pub(crate) async fn next_line(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        let limits = self.http.limits;
        loop {
            let from = self.searched.max(self.start);
            if let Some(at) = self.buffer[from..].iter().position(|&b| b == b'\n') {
                let end = from + at;
                let line = self.buffer[self.start..end].to_vec();
                self.start = end + 1;
                self.searched = self.start;
                if line.len() > limits.max_line_bytes {
                    return Err(self.too_long(&line));
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            // No whole line buffered: drop what was read, then read more.
            self.buffer.drain(..self.start);
            self.start = 0;
            self.searched = self.buffer.len();
            if self.buffer.len() > limits.max_line_bytes {
                let head = self.buffer[..self.buffer.len().min(2048)].to_vec();
                return Err(self.too_long(&head));
            }
            let Some(response) = self.response.as_mut() else {
                if self.buffer.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                // The last line, without its newline.
                let line = std::mem::take(&mut self.buffer);
                self.searched = 0;
                return Ok(Some(line));
            };
            let next = match self.http.timeout {
                None => response.chunk().await,
                Some(timeout) => match tokio::time::timeout(timeout, response.chunk()).await {
                    Ok(next) => next,
                    Err(_) => {
                        return Err(ProviderError::Transport {
                            message: format!(
                                "the result file from {} stalled: no bytes within {timeout:?}",
                                self.url
                            ),
                        });
                    }
                },
            };
            match next {
                Ok(Some(chunk)) => {
                    self.total = self.total.saturating_add(chunk.len() as u64);
                    if self.total > limits.max_file_bytes {
                        return Err(ProviderError::Decode {
                            message: format!(
                                "the result file is larger than the limit of {} bytes",
                                limits.max_file_bytes
                            ),
                            body: String::new(),
                        });
                    }
                    self.buffer.extend_from_slice(&chunk);
                }
                Ok(None) => self.response = None,
                Err(error) => {
                    return Err(self.http.redactor.error(ProviderError::Transport {
                        message: format!(
                            "the result file from {} broke: {}",
                            self.url,
                            cause(&error)
                        ),
                    }));
                }
            }
        }
    }

    fn too_long(&self, head: &[u8]) -> ProviderError {
        ProviderError::Decode {
            message: format!(
                "a result line is longer than the limit of {} bytes",
                self.http.limits.max_line_bytes
            ),
            body: self.http.redactor.preview(head, 1024),
        }
    }
}

/// Whether `url` is on the same origin (scheme, host, port) as `base`: a result URL
/// elsewhere would receive the key.
pub(crate) fn same_origin(url: &str, base: &str) -> bool {
    match (reqwest::Url::parse(url), reqwest::Url::parse(base)) {
        (Ok(url), Ok(base)) => {
            url.scheme() == base.scheme()
                && url.host_str() == base.host_str()
                && url.port_or_known_default() == base.port_or_known_default()
        }
        _ => false,
    }
}

/// The lines of the files at `urls`, one after the other, each parsed by `parse`
/// (which never fails: a line it cannot attribute has an empty custom id). A download
/// failure ends the stream with the error.
pub(crate) fn line_stream<'a, F>(
    http: &'a BatchHttp,
    urls: Vec<String>,
    parse: F,
) -> instructor_core::client::BatchLines<'a>
where
    F: Fn(&[u8]) -> instructor_core::client::BatchLine + Send + Sync + 'a,
{
    struct State<'a, F> {
        http: &'a BatchHttp,
        urls: std::collections::VecDeque<String>,
        reader: Option<LineReader<'a>>,
        parse: F,
        failed: bool,
    }
    let state = State {
        http,
        urls: urls.into(),
        reader: None,
        parse,
        failed: false,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            if state.failed {
                return None;
            }
            loop {
                if state.reader.is_none() {
                    let url = state.urls.pop_front()?;
                    match state.http.lines(&url).await {
                        Ok(reader) => state.reader = Some(reader),
                        Err(error) => {
                            state.failed = true;
                            return Some((Err(error), state));
                        }
                    }
                }
                let reader = state.reader.as_mut()?;
                match reader.next_line().await {
                    Ok(Some(line)) => {
                        let line = (state.parse)(&line);
                        return Some((Ok(line), state));
                    }
                    Ok(None) => state.reader = None,
                    Err(error) => {
                        state.failed = true;
                        return Some((Err(error), state));
                    }
                }
            }
        },
    ))
}

/// A line that names no item (not JSON, no custom id): counted, not attributed.
pub(crate) fn unattributed(error: ProviderError) -> instructor_core::client::BatchLine {
    instructor_core::client::BatchLine {
        custom_id: String::new(),
        outcome: instructor_core::client::BatchOutcome::Error(error),
    }
}

/// A multipart/form-data body of text fields and one file.
pub(crate) fn multipart(
    fields: &[(&str, &str)],
    file_field: &str,
    file_name: &str,
    file_type: &str,
    file: &[u8],
) -> (Vec<u8>, String) {
    // JSON lines hold no `\r`: this boundary cannot occur in the file.
    const BOUNDARY: &str = "instructor-rs-batch-4d1f0c7e9a2b";
    let mut body = Vec::with_capacity(file.len() + 512);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{file_field}\"; \
             filename=\"{file_name}\"\r\ncontent-type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={BOUNDARY}"))
}
