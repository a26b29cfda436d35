//! A provider fallback chain: `Client::fallback([primary, backup])` tries each client's
//! provider (with its own model) in order when one fails with a transport or provider
//! error, never on a validation failure (that is the extraction's re-ask). The ledger
//! names the provider of every attempt, and a provider that failed over is an attempt
//! of its own with its error. A stream that breaks off moves on to the next provider
//! as well, in the middle of the answer too (see [`Client::fallback`]).

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
    ///
    /// Streams fail over too. A provider whose stream breaks off before any of the
    /// answer arrived is replaced unseen. One that breaks off in the middle of it is
    /// replaced by the next, which answers from the start, within the same attempt and
    /// without spending a transport retry: `.partial()` says
    /// [`PartialUpdate::Restarted`](super::PartialUpdate::Restarted) and starts over;
    /// `.iter()` and text streams, which cannot take back what they showed, move on
    /// only if nothing was shown, and otherwise end with the provider's error.
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
        let mut chain = Chain {
            links: self.links.clone(),
            request: request.clone(),
            next: 0,
            failed: Vec::new(),
        };
        let events = chain.open().await?;
        let state = Streaming {
            chain,
            events,
            done: false,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            state,
            Streaming::step,
        )))
    }
}

/// The links of a chain not yet tried for one streamed request.
struct Chain {
    links: Vec<Link>,
    request: ChatRequest,
    /// The next link to try.
    next: usize,
    /// The links that failed so far, in order.
    failed: Vec<FailedOver>,
}

impl Chain {
    /// The stream of the next link that opens, first saying who answers and who failed
    /// before; the chain's error when none is left.
    async fn open(&mut self) -> Result<EventStream, ProviderError> {
        use futures_util::StreamExt;
        while let Some(link) = self.links.get(self.next).cloned() {
            self.next += 1;
            let request = match &link.model {
                Some(model) if *model != self.request.model => {
                    let mut request = self.request.clone();
                    request.model.clone_from(model);
                    Cow::Owned(request)
                }
                _ => Cow::Borrowed(&self.request),
            };
            match link.provider.stream(&request).await {
                Ok(events) => {
                    let first = StreamEvent::Provider {
                        name: link.provider.name().to_owned(),
                        failed_over: self.failed.clone(),
                    };
                    return Ok(Box::pin(
                        futures_util::stream::iter([Ok(first)]).chain(events),
                    ));
                }
                Err(error) => self.failed.push(FailedOver {
                    provider: link.provider.name().to_owned(),
                    error,
                }),
            }
        }
        Err(exhausted(std::mem::take(&mut self.failed)))
    }

    /// The link in flight broke off with `error`: it joins the failed ones.
    fn broke(&mut self, error: ProviderError) {
        let provider = self
            .next
            .checked_sub(1)
            .and_then(|index| self.links.get(index))
            .map(|link| link.provider.name().to_owned())
            .unwrap_or_default();
        self.failed.push(FailedOver { provider, error });
    }
}

/// A chain's stream: the events of the link in flight. A link that breaks off moves
/// on to the next: before any of the answer arrived, unseen (the next link's first
/// event names it and the ones that failed); after, its first event comes in the
/// middle of the answer, which tells the reader to start the answer over (or to give
/// up, if what it showed cannot be taken back), with the broken link last among the
/// failed. The chain's error ends the stream when no link is left.
struct Streaming {
    chain: Chain,
    events: EventStream,
    done: bool,
}

impl Streaming {
    async fn step(mut self) -> Option<(Result<StreamEvent, ProviderError>, Self)> {
        use futures_util::StreamExt;
        if self.done {
            return None;
        }
        match self.events.next().await {
            Some(Ok(event)) => Some((Ok(event), self)),
            None => None,
            Some(Err(error)) => {
                self.chain.broke(error);
                match self.chain.open().await {
                    Ok(events) => {
                        self.events = events;
                        // The new link's first event: who answers now.
                        self.events.next().await.map(|event| (event, self))
                    }
                    Err(error) => {
                        self.done = true;
                        Some((Err(error), self))
                    }
                }
            }
        }
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
