//! A provider fallback chain: `Client::fallback([primary, backup])` tries each client's
//! provider (with its own model) in order when one fails with a transport or provider
//! error, never on a validation failure (that is the extraction's re-ask). The ledger
//! names the provider of every attempt, and a provider that failed over is an attempt
//! of its own with its error.

use super::Client;
use crate::chat::{
    BoxFuture, Capabilities, ChatRequest, ChatResponse, EventStream, FailedOver, Provider,
    ProviderError, StreamEvent,
};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// One link of the chain: a provider and the model to ask it for.
#[derive(Clone)]
struct Link {
    provider: Arc<dyn Provider>,
    model: Option<String>,
}

/// Providers tried in order. Built by [`Client::fallback`].
#[derive(Clone)]
pub struct Fallback {
    links: Vec<Link>,
    name: String,
}

impl fmt::Debug for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for link in &self.links {
            list.entry(&format_args!(
                "{}/{}",
                link.provider.name(),
                link.model.as_deref().unwrap_or("(the request's model)")
            ));
        }
        list.finish()
    }
}

impl Client {
    /// A client that asks each of `clients` in turn (each with its own provider and
    /// model) until one answers: a transport failure or a provider error of one moves
    /// on to the next at once; a validation failure is re-asked of the provider that
    /// answered, as always. The first client's settings (mode, retries, timeout, hooks)
    /// are the chain's; the mode must be one every provider can serve (checked before
    /// sending). An empty list gives a client whose requests fail with
    /// `Error::InvalidRequest`.
    pub fn fallback(clients: impl IntoIterator<Item = Client>) -> Client {
        let clients: Vec<Client> = clients.into_iter().collect();
        let links: Vec<Link> = clients
            .iter()
            .map(|client| Link {
                provider: client.provider.clone(),
                model: client.model.clone(),
            })
            .collect();
        let name = links
            .iter()
            .map(|link| link.provider.name().to_owned())
            .collect::<Vec<_>>()
            .join("|");
        let fallback = Fallback { links, name };
        match clients.into_iter().next() {
            Some(first) => Client {
                provider: Arc::new(fallback),
                // The chain's model is each link's own; this one names the first.
                model: first.model.clone().or_else(|| Some("fallback".to_owned())),
                ..first
            },
            None => Client::new(fallback).with_model("fallback"),
        }
    }
}

impl Fallback {
    fn request_for<'a>(&self, link: &Link, request: &'a ChatRequest) -> Cow<'a, ChatRequest> {
        match &link.model {
            Some(model) if *model != request.model => {
                let mut request = request.clone();
                request.model.clone_from(model);
                Cow::Owned(request)
            }
            _ => Cow::Borrowed(request),
        }
    }

    async fn complete_with(
        &self,
        request: &ChatRequest,
        keep_raw: bool,
    ) -> Result<ChatResponse, ProviderError> {
        let mut failed = Vec::new();
        for link in &self.links {
            let request = self.request_for(link, request);
            let result = if keep_raw {
                link.provider.complete(&request).await
            } else {
                link.provider.complete_without_raw(&request).await
            };
            match result {
                Ok(mut response) => {
                    response.provider = Some(link.provider.name().to_owned());
                    response.failed_over = failed;
                    return Ok(response);
                }
                // Any failure moves on: the next provider may serve what this one
                // could not (even a request it refused before sending).
                Err(error) => failed.push(FailedOver {
                    provider: link.provider.name().to_owned(),
                    error,
                }),
            }
        }
        Err(exhausted(failed))
    }

    async fn stream_with(&self, request: &ChatRequest) -> Result<EventStream, ProviderError> {
        use futures_util::StreamExt;
        let mut failed = Vec::new();
        for link in &self.links {
            let request = self.request_for(link, request);
            match link.provider.stream(&request).await {
                Ok(events) => {
                    // The stream says first who answers and who failed before.
                    let first = StreamEvent::Provider {
                        name: link.provider.name().to_owned(),
                        failed_over: failed,
                    };
                    let events = futures_util::stream::iter([Ok(first)]).chain(events);
                    return Ok(Box::pin(events));
                }
                Err(error) => failed.push(FailedOver {
                    provider: link.provider.name().to_owned(),
                    error,
                }),
            }
        }
        Err(exhausted(failed))
    }
}

/// The error of a chain whose every provider failed: a lone provider's own error; a
/// request no provider could take is refused before sending (`Unsupported`, every
/// reason given); otherwise every provider's error, in order.
fn exhausted(mut failed: Vec<FailedOver>) -> ProviderError {
    if failed.len() == 1
        && let Some(only) = failed.pop()
    {
        return only.error;
    }
    if failed.is_empty() {
        return ProviderError::Unsupported("the fallback chain has no provider".to_owned());
    }
    if failed
        .iter()
        .all(|link| matches!(link.error, ProviderError::Unsupported(_)))
    {
        let reasons: Vec<String> = failed
            .iter()
            .map(|link| format!("{}: {}", link.provider, link.error))
            .collect();
        return ProviderError::Unsupported(format!(
            "no provider of the fallback chain can take this request ({})",
            reasons.join("; ")
        ));
    }
    ProviderError::FallbackExhausted { failed }
}

impl Provider for Fallback {
    fn name(&self) -> &str {
        &self.name
    }

    /// What every provider of the chain can do (each with its own model).
    fn capabilities(&self, model: &str) -> Capabilities {
        let mut all = Capabilities::ALL;
        for link in &self.links {
            let own = link
                .provider
                .capabilities(link.model.as_deref().unwrap_or(model));
            all.forced_tool_choice &= own.forced_tool_choice;
            all.strict_tools &= own.strict_tools;
            all.native_json_schema &= own.native_json_schema;
            all.json_mode &= own.json_mode;
            all.parallel_tools &= own.parallel_tools;
            all.streaming_usage &= own.streaming_usage;
        }
        all
    }

    fn wire_body(&self, request: &ChatRequest) -> Option<serde_json::Value> {
        let link = self.links.first()?;
        link.provider.wire_body(&self.request_for(link, request))
    }

    /// Every provider's secrets removed.
    fn redact(&self, text: &str) -> String {
        self.links
            .iter()
            .fold(text.to_owned(), |text, link| link.provider.redact(&text))
    }

    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_with(request, true))
    }

    fn complete_without_raw<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, ProviderError>> {
        Box::pin(self.complete_with(request, false))
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, ProviderError>> {
        Box::pin(self.stream_with(request))
    }
}
