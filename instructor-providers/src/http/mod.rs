//! The HTTP plumbing every provider shares, so that the hardening rules hold for each
//! by construction:
//!
//! - one `reqwest` client per provider, built once, that never follows a redirect (a
//!   redirect would carry the key, the headers and the prompt to another host);
//! - one timer per exchange (a whole answer from connecting to its last byte; a stream
//!   until its head, then per wait for more bytes);
//! - bodies read within a size limit, error bodies kept as bounded, redacted previews;
//! - `retry-after` and request ids read from the headers, bounded and redacted;
//! - the rate-limit headers read into [`RateLimits`], bounded, on whole and streamed
//!   answers alike;
//! - a streamed answer told apart from a JSON answer (a server that ignores `stream`)
//!   and from a stray page (a captive portal), before any event is read.
//!
//! A provider adds its URL, headers and wire format: see [`Transport`], and
//! [`events::map_sse`] for the stream side.

pub(crate) mod body;
pub(crate) mod errors;
pub(crate) mod events;
pub(crate) mod native;
pub(crate) mod rate_limits;
pub(crate) mod redact;

use crate::openai::ApiKey;
use body::{
    BodyError, Stalled, TOO_LARGE_BODY_LIMIT, WholeBody, has_content, is_json_media_type,
    limit_total, looks_like_event_stream, media_type, read_body, too_large,
};
use errors::{cause, display_url, error_chain, request_id, request_id_value, retry_after};
use futures_core::Stream;
use futures_util::StreamExt;
use instructor_core::chat::{ProviderError, RateLimits};
use redact::{MAX_BODY_BYTES, Redactor};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// The bytes of a streamed answer: bounded in total and per wait.
pub(crate) type ByteStream =
    Pin<Box<dyn Stream<Item = Result<bytes::Bytes, ProviderError>> + Send + 'static>>;

/// Where requests go: the URL as written (for errors, without secrets) and, parsed once,
/// for sending (a provider whose endpoint does not change per request keeps one).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    text: String,
    parsed: Option<reqwest::Url>,
}

impl Endpoint {
    /// `text`, parsed now (a URL that does not parse is sent as text, and reqwest
    /// reports it).
    pub(crate) fn new(text: String) -> Self {
        let parsed = reqwest::Url::parse(&text).ok();
        Endpoint { text, parsed }
    }

    /// The URL as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

/// What opening a stream gave.
pub(crate) enum Opened {
    /// An event stream (checked to look like one), to be read by the provider's
    /// mapper.
    Events(ByteStream),
    /// A whole JSON answer: the server ignored the request to stream. The provider
    /// reads it as a whole answer and passes it on as events.
    Whole {
        /// The body.
        body: WholeBody,
        /// The request id header, read only if the body has none
        /// ([`Transport::header_id`]).
        request_id: Option<HeaderValue>,
    },
}

/// How a provider's transport is set up.
pub(crate) struct TransportConfig<'a> {
    /// The headers of every request (auth, version, beta flags, the user's own); `Err`
    /// is reported by each request.
    pub headers: Result<HeaderMap, ProviderError>,
    /// The key: removed from everything read from the server.
    pub key: Option<&'a ApiKey>,
    /// The time one exchange may take (`None`: no limit).
    pub timeout: Option<Duration>,
    /// The size limit of one answer.
    pub max_response_bytes: usize,
}

/// One provider's HTTP client.
pub(crate) struct Transport {
    /// Building a client only fails when the TLS backend cannot start; that is reported
    /// by each request, so that construction stays infallible.
    client: Result<reqwest::Client, String>,
    headers: Result<(), ProviderError>,
    has_content_type: bool,
    redactor: Redactor,
    timeout: Option<Duration>,
    max_response_bytes: usize,
}

impl Transport {
    /// A transport for `config`.
    pub(crate) fn new(config: TransportConfig<'_>) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("instructor-rs/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(timeout) = config.timeout {
            builder = builder.connect_timeout(timeout);
        }
        let mut has_content_type = false;
        let headers = match config.headers {
            Ok(headers) => {
                has_content_type = headers.contains_key(reqwest::header::CONTENT_TYPE);
                builder = builder.default_headers(headers);
                Ok(())
            }
            Err(error) => Err(error),
        };
        let client = builder
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {}", error_chain(&error)));
        Transport {
            client,
            headers,
            has_content_type,
            redactor: Redactor::new(config.key),
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        }
    }

    /// The redactor of this provider's key.
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// A whole exchange: `body` posted to `url`, the answer's body read within the size
    /// limit, all under one timer. Gives the body and the request id of the headers.
    pub(crate) async fn whole(
        &self,
        endpoint: &Endpoint,
        body: Vec<u8>,
        authorization: Option<&HeaderValue>,
    ) -> Result<(WholeBody, Option<HeaderValue>), ProviderError> {
        self.whole_with_limits(endpoint, body, authorization)
            .await
            .map(|(bytes, header_id, _)| (bytes, header_id))
    }

    /// [`Transport::whole`], with the rate limits of the answer's headers. Not an
    /// `async fn`: the exchange is moved into its timer once, with no state machine
    /// around them to move both again. The timer starts when this is called (inside a
    /// Tokio runtime), so a caller awaits the future at once.
    pub(crate) fn whole_with_limits<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        body: Vec<u8>,
        authorization: Option<&'a HeaderValue>,
    ) -> impl Future<Output = Result<WholeExchange, ProviderError>> + 'a {
        let url = endpoint.as_str();
        let exchange = async move {
            let response = self
                .send(endpoint, body, false, authorization, None)
                .await?;
            // Kept as the header's value (shared, not copied): read only when the body
            // has no id.
            let header_id = request_id_value(response.headers()).cloned();
            let limits = rate_limits::rate_limits(response.headers(), SystemTime::now());
            let bytes = self.success_body(response, url).await?;
            Ok((bytes, header_id, limits))
        };
        self.within_timeout(exchange, url)
    }

    /// A request id header's value as text: without the key, bounded.
    pub(crate) fn header_id(&self, value: Option<HeaderValue>) -> Option<String> {
        value?
            .to_str()
            .ok()
            .map(|id| self.redactor.id(id.to_owned()))
    }

    /// Opens a streamed exchange: connecting and the wait for the answer's head under
    /// one timer, then each wait for more bytes under its own. An answer that is JSON
    /// is read whole; anything else must start like an event stream. Gives the rate
    /// limits of the answer's headers beside it.
    pub(crate) async fn open_stream(
        &self,
        endpoint: &Endpoint,
        body: Vec<u8>,
        authorization: Option<&HeaderValue>,
    ) -> Result<(Opened, Option<Box<RateLimits>>), ProviderError> {
        let url = endpoint.as_str();
        let response = self
            .within_timeout(self.send(endpoint, body, true, authorization, None), url)
            .await?;
        let limits = rate_limits::rate_limits(response.headers(), SystemTime::now());
        self.open_events(response, url)
            .await
            .map(|opened| (opened, limits))
    }

    /// The rest of [`Transport::open_stream`], once the answer's head is in.
    async fn open_events(
        &self,
        response: reqwest::Response,
        url: &str,
    ) -> Result<Opened, ProviderError> {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let media_type = content_type.as_deref().map(media_type);
        let is_event_stream = media_type.as_deref() == Some("text/event-stream");
        if !is_event_stream && media_type.as_deref().is_some_and(is_json_media_type) {
            let header_id = request_id_value(response.headers()).cloned();
            let bytes = self
                .within_timeout(self.success_body(response, url), url)
                .await?;
            if looks_like_event_stream(&bytes) {
                // An event stream mislabelled as JSON (some proxies): read as what it is.
                let bytes = bytes::Bytes::copy_from_slice(&bytes);
                let stream = futures_util::stream::iter([Ok(bytes)]);
                return Ok(Opened::Events(Box::pin(stream)));
            }
            return Ok(Opened::Whole {
                body: bytes,
                request_id: header_id,
            });
        }
        let shown_url = display_url(url);
        let chunks = response.bytes_stream().map(move |chunk| {
            chunk.map_err(|error| ProviderError::Transport {
                message: format!("the stream from {shown_url} broke: {}", cause(&error)),
            })
        });
        let mut rest = Box::pin(Stalled::new(chunks, self.timeout, display_url(url)));
        // Anything else is an event stream only if it starts like one (some servers send
        // no content type); a captive portal's HTML or an empty body is not, and trying
        // again would meet the same page.
        let mut head = Vec::new();
        if !is_event_stream {
            let mut seen = 0usize;
            while seen < self.head_len() && !has_content(&head) {
                match rest.next().await {
                    Some(Ok(chunk)) => {
                        seen = seen.saturating_add(chunk.len());
                        head.push(chunk);
                    }
                    None => break,
                    Some(Err(error)) => return Err(self.redactor.error(error)),
                }
            }
            let bytes: Vec<u8> = head
                .iter()
                .flat_map(|chunk| chunk.iter().copied())
                .collect();
            if !looks_like_event_stream(&bytes) {
                let what = match &content_type {
                    Some(content_type) => format!("`{}`", self.redactor.id(content_type.clone())),
                    None => "no content type".to_owned(),
                };
                let message = if !has_content(&head) {
                    format!("the streamed answer is empty ({what}), not an event stream")
                } else {
                    format!("the streamed answer is not an event stream ({what})")
                };
                return Err(ProviderError::Decode {
                    message,
                    body: self.redactor.preview(&bytes, TOO_LARGE_BODY_LIMIT),
                });
            }
        }
        let bytes = futures_util::stream::iter(head.into_iter().map(Ok)).chain(rest);
        let limit = self.max_response_bytes;
        let redactor = self.redactor.clone();
        let bytes = limit_total(bytes, limit, self.head_len(), move |head| {
            too_large(limit, head, &redactor)
        });
        Ok(Opened::Events(Box::pin(bytes)))
    }

    /// A whole exchange as [`Transport::whole`], with headers made for this one request
    /// (a signature over its body: AWS SigV4).
    pub(crate) async fn whole_signed(
        &self,
        endpoint: &Endpoint,
        body: Vec<u8>,
        signed: &HeaderMap,
    ) -> Result<(WholeBody, Option<HeaderValue>), ProviderError> {
        let url = endpoint.as_str();
        let exchange = async {
            let response = self.send(endpoint, body, false, None, Some(signed)).await?;
            let header_id = request_id_value(response.headers()).cloned();
            let bytes = self.success_body(response, url).await?;
            Ok((bytes, header_id))
        };
        self.within_timeout(exchange, url).await
    }

    /// Opens a streamed exchange whose events are binary frames of `media_type` (AWS
    /// `application/vnd.amazon.eventstream`), with headers made for this one request: a
    /// JSON answer is read whole, an answer of another type is an error, and the frames'
    /// bytes are bounded in total and per wait as an SSE stream's.
    pub(crate) async fn open_binary_stream(
        &self,
        endpoint: &Endpoint,
        body: Vec<u8>,
        signed: &HeaderMap,
        expected: &str,
    ) -> Result<Opened, ProviderError> {
        let url = endpoint.as_str();
        let response = self
            .within_timeout(self.send(endpoint, body, false, None, Some(signed)), url)
            .await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let media_type = content_type.as_deref().map(media_type);
        if media_type.as_deref().is_some_and(is_json_media_type) {
            let header_id = request_id_value(response.headers()).cloned();
            let bytes = self
                .within_timeout(self.success_body(response, url), url)
                .await?;
            return Ok(Opened::Whole {
                body: bytes,
                request_id: header_id,
            });
        }
        if media_type.as_deref() != Some(expected) {
            let what = match &content_type {
                Some(content_type) => format!("`{}`", self.redactor.id(content_type.clone())),
                None => "no content type".to_owned(),
            };
            return Err(ProviderError::Decode {
                message: format!("the streamed answer is {what}, not `{expected}`"),
                body: String::new(),
            });
        }
        let shown_url = display_url(url);
        let chunks = response.bytes_stream().map(move |chunk| {
            chunk.map_err(|error| ProviderError::Transport {
                message: format!("the stream from {shown_url} broke: {}", cause(&error)),
            })
        });
        let rest = Stalled::new(chunks, self.timeout, display_url(url));
        let limit = self.max_response_bytes;
        let redactor = self.redactor.clone();
        let bytes = limit_total(rest, limit, self.head_len(), move |head| {
            too_large(limit, head, &redactor)
        });
        Ok(Opened::Events(Box::pin(bytes)))
    }

    /// Sends `body` to `url` (with `authorization`, for a token fetched per request),
    /// turning a non-2xx answer into [`ProviderError::Status`] and a 3xx into
    /// [`ProviderError::Redirect`].
    async fn send(
        &self,
        endpoint: &Endpoint,
        body: Vec<u8>,
        streaming: bool,
        authorization: Option<&HeaderValue>,
        signed: Option<&HeaderMap>,
    ) -> Result<reqwest::Response, ProviderError> {
        let url = endpoint.as_str();
        let client = self
            .client
            .as_ref()
            .map_err(|message| ProviderError::Transport {
                message: message.clone(),
            })?;
        if let Err(error) = &self.headers {
            return Err(error.clone());
        }
        let mut builder = match &endpoint.parsed {
            Some(parsed) => client.post(parsed.clone()),
            None => client.post(url),
        };
        if let Some(authorization) = authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, authorization.clone());
        }
        if let Some(signed) = signed {
            builder = builder.headers(signed.clone());
        }
        if !self.has_content_type {
            builder = builder.header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if streaming {
            builder = builder.header(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
        }
        let response = builder
            .body(body)
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
        let limit = self.max_response_bytes;
        // Boxed: only an error reads its body here, and held in place this would make
        // the future of every exchange larger.
        let body = match Box::pin(read_body(response, limit, self.head_len())).await {
            Ok(bytes) => self.redactor.preview(&bytes, MAX_BODY_BYTES),
            Err(BodyError::TooLarge { head }) => format!(
                "{} (the error body is larger than the limit of {limit} bytes)",
                self.redactor.preview(&head, TOO_LARGE_BODY_LIMIT)
            ),
            Err(BodyError::Transport(error)) => {
                format!("(the error body could not be read: {})", cause(&error))
            }
        };
        Err(self.redactor.error(ProviderError::Status {
            status: status.as_u16(),
            body,
            retry_after: retry_after(&headers, SystemTime::now()),
            request_id: request_id(&headers),
        }))
    }

    /// A failed exchange with `url`, named without its query string or credentials.
    fn transport_error(&self, error: &reqwest::Error, url: &str) -> ProviderError {
        self.redactor.error(errors::transport_error(error, url))
    }

    /// How much of a too large body to keep: its preview and room for a key straddling
    /// the preview's end.
    fn head_len(&self) -> usize {
        TOO_LARGE_BODY_LIMIT + self.redactor.key_len()
    }

    /// The body of a successful answer, within the size limit. Not an `async fn`,
    /// for the reason [`read_body`] is not.
    fn success_body<'a>(
        &'a self,
        response: reqwest::Response,
        url: &'a str,
    ) -> impl Future<Output = Result<WholeBody, ProviderError>> + 'a {
        use futures_util::future::FutureExt;
        let limit = self.max_response_bytes;
        read_body(response, limit, self.head_len()).map(move |result| {
            result.map_err(|error| match error {
                BodyError::TooLarge { head } => too_large(limit, &head, &self.redactor),
                BodyError::Transport(error) => self.transport_error(&error, url),
            })
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
}

/// What a whole exchange gives: the body, the request id header's value and the rate
/// limits of the headers.
pub(crate) type WholeExchange = (WholeBody, Option<HeaderValue>, Option<Box<RateLimits>>);

/// A header map from `(name, value)` pairs, every value marked sensitive (never shown
/// in `Debug`); a name or value a header cannot carry is an error naming the header
/// (never its value).
pub(crate) fn header_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            ProviderError::Unsupported(format!("`{name}` is not a valid header name"))
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ProviderError::Unsupported(format!("the value of header `{name}` is not valid"))
        })?;
        value.set_sensitive(true);
        headers.append(header, value);
    }
    Ok(headers)
}
