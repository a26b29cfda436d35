//! What every native provider does the same way, once: sending a request through the
//! shared [`Transport`], reading the whole answer (the request id of the headers when
//! the body has none, also on an error status), passing on a whole answer where a
//! stream was asked (a server that ignores `stream`) as the events a stream would have
//! given, merging the caller's `extra` fields into the body, and the `Provider` impl
//! itself (`native_provider!`). A provider adds only its
//! [`Wire`]: its name, capabilities, body, endpoint, answer reader and stream mapper.

use super::events::{EventMapper, map_sse};
use super::redact::Redactor;
use super::{ByteStream, Endpoint, Opened, Transport};
use futures_util::StreamExt;
use instructor_core::chat::{
    Capabilities, ChatRequest, ChatResponse, EventStream, ProviderError, StreamEvent,
};
use reqwest::header::HeaderValue;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::future::Future;

/// A native provider's wire: what differs between providers.
pub(crate) trait Wire: Send + Sync {
    /// The shared HTTP client, with this provider's headers and key.
    fn transport(&self) -> &Transport;

    /// The provider's name (`anthropic`, `gemini`, ...).
    fn provider_name(&self) -> &str;

    /// What the provider can do with `model`.
    fn provider_capabilities(&self, model: &str) -> Capabilities;

    /// The body of `request` as sent (streamed or not), `extra` fields merged in
    /// ([`body_with_extra`]).
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unsupported`] for what the provider cannot take.
    fn body(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<u8>, ProviderError>;

    /// Where `request` goes.
    ///
    /// # Errors
    ///
    /// A URL that cannot be made (a model name that cannot be a path segment).
    fn endpoint(
        &self,
        request: &ChatRequest,
        streaming: bool,
    ) -> Result<Cow<'_, Endpoint>, ProviderError>;

    /// The `authorization` header of this request, when it is not a fixed header (a
    /// token fetched and refreshed, as on Vertex AI).
    fn authorization(
        &self,
    ) -> impl Future<Output = Result<Option<HeaderValue>, ProviderError>> + Send {
        std::future::ready(Ok(None))
    }

    /// A failed exchange's error, with what only this provider can read in it (Google's
    /// `RetryInfo` in a 429's body).
    fn classify(&self, error: ProviderError) -> ProviderError {
        error
    }

    /// Reads a whole answer's body as a response (`keep_raw`: with the body's tree);
    /// an error status in the body, or a body that cannot be read, is an error.
    const READ: fn(&[u8], &Redactor, bool) -> Result<ChatResponse, ProviderError>;

    /// The state of one streamed answer, reading its SSE events.
    type Mapper: EventMapper + Default;

    /// The neutral events of a streamed answer's bytes: SSE read by [`Self::Mapper`]
    /// (a provider whose stream is not SSE says how instead).
    fn events(&self, bytes: ByteStream, redactor: Redactor) -> EventStream {
        map_sse(bytes, Self::Mapper::default(), redactor)
    }
}

/// The request's body as JSON (for hooks and tests): what is sent, parsed back.
///
/// # Errors
///
/// As [`Wire::body`].
pub(crate) fn request_body<W: Wire>(
    wire: &W,
    request: &ChatRequest,
    streaming: bool,
) -> Result<Value, ProviderError> {
    let body = wire.body(request, streaming)?;
    serde_json::from_slice(&body).map_err(cannot_serialize)
}

/// A whole answer to `request`.
pub(crate) async fn complete<W: Wire>(
    wire: &W,
    request: &ChatRequest,
    keep_raw: bool,
) -> Result<ChatResponse, ProviderError> {
    let body = wire.body(request, false)?;
    let endpoint = wire.endpoint(request, false)?;
    let authorization = wire.authorization().await?;
    let (bytes, header_id, limits) = wire
        .transport()
        .whole_with_limits(&endpoint, body, authorization.as_ref())
        .await
        .map_err(|error| wire.classify(error))?;
    let mut response = read_whole(wire, &bytes, header_id, keep_raw)?;
    response.rate_limits = limits;
    Ok(response)
}

/// The events of a streamed answer to `request`.
pub(crate) async fn stream<W: Wire>(
    wire: &W,
    request: &ChatRequest,
) -> Result<EventStream, ProviderError> {
    let body = wire.body(request, true)?;
    let endpoint = wire.endpoint(request, true)?;
    let authorization = wire.authorization().await?;
    let (opened, limits) = wire
        .transport()
        .open_stream(&endpoint, body, authorization.as_ref())
        .await
        .map_err(|error| wire.classify(error))?;
    match opened {
        Opened::Events(bytes) => {
            let events = wire.events(bytes, wire.transport().redactor().clone());
            match limits {
                // The headers' rate limits come first, as the head came first.
                Some(limits) => {
                    let first = futures_util::stream::iter([Ok(StreamEvent::RateLimits(limits))]);
                    Ok(Box::pin(first.chain(events)))
                }
                None => Ok(events),
            }
        }
        // A server that ignores the request to stream answers whole: it is the answer
        // all the same, passed on as the events a stream would have given (its raw body
        // not kept).
        Opened::Whole { body, request_id } => {
            let mut whole = read_whole(wire, &body, request_id, false)?;
            whole.rate_limits = limits;
            let events = whole_response_events(whole).into_iter().map(Ok);
            Ok(Box::pin(futures_util::stream::iter(events)))
        }
    }
}

/// A whole answer's body read by the wire; the request id of the headers (read only
/// then) when the body has none, also on an error status in the body.
fn read_whole<W: Wire>(
    wire: &W,
    bytes: &[u8],
    header_id: Option<HeaderValue>,
    keep_raw: bool,
) -> Result<ChatResponse, ProviderError> {
    let transport = wire.transport();
    let mut header_id = Some(header_id);
    let mut take_id = || transport.header_id(header_id.take().flatten());
    let mut response = W::READ(bytes, transport.redactor(), keep_raw).map_err(|mut error| {
        if let ProviderError::Status { request_id, .. } = &mut error
            && request_id.is_none()
        {
            *request_id = take_id();
        }
        error
    })?;
    if response.request_id.is_none() {
        response.request_id = take_id();
    }
    Ok(response)
}

/// The events a stream would have given for a whole answer: its id, its reasoning,
/// text, refusal, each tool call's arguments in one delta, usage and finish reason.
pub(crate) fn whole_response_events(response: ChatResponse) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    events.extend(response.rate_limits.map(StreamEvent::RateLimits));
    events.extend(response.request_id.map(StreamEvent::ResponseId));
    events.extend(response.reasoning.into_iter().map(StreamEvent::Reasoning));
    events.extend(
        response
            .text
            .filter(|text| !text.is_empty())
            .map(StreamEvent::TextDelta),
    );
    events.extend(
        response
            .refusal
            .filter(|refusal| !refusal.is_empty())
            .map(StreamEvent::RefusalDelta),
    );
    for (index, call) in response.tool_calls.into_iter().enumerate() {
        events.push(StreamEvent::ToolArgumentsDelta {
            index,
            id: Some(call.id).filter(|id| !id.is_empty()),
            name: Some(call.name).filter(|name| !name.is_empty()),
            delta: String::from(&*call.arguments),
        });
    }
    events.extend(response.usage.map(StreamEvent::Usage));
    events.extend(response.finish_reason.map(StreamEvent::Finish));
    events
}

/// `wire` serialized as the body, with the caller's `extra` fields merged in at the top
/// (through a `Value` only then). `stream` belongs to the method that sends, never to
/// `extra`.
///
/// # Errors
///
/// [`ProviderError::Unsupported`] when the body cannot be serialized.
pub(crate) fn body_with_extra<T: Serialize>(
    wire: &T,
    extra: &Map<String, Value>,
) -> Result<Vec<u8>, ProviderError> {
    if extra.is_empty() {
        return serde_json::to_vec(wire).map_err(cannot_serialize);
    }
    let mut body = serde_json::to_value(wire).map_err(cannot_serialize)?;
    if let Value::Object(body) = &mut body {
        for (key, value) in extra {
            if key != "stream" {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    serde_json::to_vec(&body).map_err(cannot_serialize)
}

/// A body that cannot be serialized (a non-finite number in `extra`, say).
pub(crate) fn cannot_serialize(error: serde_json::Error) -> ProviderError {
    ProviderError::Unsupported(format!("the request cannot be serialized: {error}"))
}

/// The `Provider` impl of a type that implements [`Wire`]: the same for every native
/// provider, so it is written once.
macro_rules! native_provider {
    ($type:ty) => {
        impl instructor_core::chat::Provider for $type {
            fn name(&self) -> &str {
                $crate::http::native::Wire::provider_name(self)
            }

            fn capabilities(&self, model: &str) -> instructor_core::chat::Capabilities {
                $crate::http::native::Wire::provider_capabilities(self, model)
            }

            fn wire_body(
                &self,
                request: &instructor_core::chat::ChatRequest,
            ) -> Option<serde_json::Value> {
                $crate::http::native::request_body(self, request, false).ok()
            }

            fn redact(&self, text: &str) -> String {
                $crate::http::native::Wire::transport(self)
                    .redactor()
                    .text(text.to_owned())
            }

            fn redacted<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
                $crate::http::native::Wire::transport(self)
                    .redactor()
                    .borrowed(text)
            }

            fn redact_in_place(&self, text: &mut String) {
                $crate::http::native::Wire::transport(self)
                    .redactor()
                    .in_place(text);
            }

            fn complete<'a>(
                &'a self,
                request: &'a instructor_core::chat::ChatRequest,
            ) -> instructor_core::chat::BoxFuture<
                'a,
                Result<instructor_core::chat::ChatResponse, instructor_core::chat::ProviderError>,
            > {
                Box::pin($crate::http::native::complete(self, request, true))
            }

            fn complete_without_raw<'a>(
                &'a self,
                request: &'a instructor_core::chat::ChatRequest,
            ) -> instructor_core::chat::BoxFuture<
                'a,
                Result<instructor_core::chat::ChatResponse, instructor_core::chat::ProviderError>,
            > {
                Box::pin($crate::http::native::complete(self, request, false))
            }

            fn stream<'a>(
                &'a self,
                request: &'a instructor_core::chat::ChatRequest,
            ) -> instructor_core::chat::BoxFuture<
                'a,
                Result<instructor_core::chat::EventStream, instructor_core::chat::ProviderError>,
            > {
                Box::pin($crate::http::native::stream(self, request))
            }
        }
    };
}

pub(crate) use native_provider;
