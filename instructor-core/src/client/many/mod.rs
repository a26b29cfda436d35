//! Many extractions of one type in one run ([`Client::extract_many`]): bounded
//! concurrency, requests and tokens per minute (fed by usage and the providers'
//! rate-limit headers), a token budget for the whole run, results in input order or as
//! they finish, a progress callback, and a resume file.
//!
//! It lives in core, beside the engine, because each item is an ordinary
//! [`Extraction`] (the same request building, validation, re-asks and ledger) and the
//! pacing wraps the client's [`Provider`](crate::chat::Provider) from inside the client
//! module; nothing here needs HTTP. The run is a [`Stream`] that owns its client handle,
//! drives its items itself (no task is spawned, so it needs no runtime beyond tokio's
//! timers) and is `Send + 'static + Unpin`: it can be moved into `tokio::spawn`.
//!
//! Memory is bounded by the concurrency, not by the number of items: inputs are pulled
//! from the iterator or stream only when an item can start, results are handed out as
//! they come, and in ordered mode no item starts more than `concurrency` places ahead
//! of the next one to hand out (a slow item holds back the start of new ones rather
//! than letting finished results pile up behind it). Only a resumed run keeps a set of
//! the ids already done.

mod journal;
mod limiter;

pub use journal::ResumeError;

use super::{Client, Error, Extraction, Ledger};
use crate::chat::Usage;
use crate::extract::Extract;
use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use journal::{Journal, LineOut};
use limiter::{Limiter, Limits, Paced};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// One finished item of a [`Many`] run.
#[derive(Debug)]
#[non_exhaustive]
pub struct ItemResult<T, Id> {
    /// The input's id.
    pub id: Id,
    /// The value, or why there is none (a run's spent budget is
    /// [`Error::BudgetExhausted`], with nothing sent).
    pub result: Result<T, Error>,
    /// Tokens of all its attempts.
    pub usage: Usage,
    /// Its attempts (re-asks and validator calls included; 0 when nothing was sent).
    pub attempts: u32,
    /// Why its line could not be written to the resume file, if it could not (it is
    /// then done again on a restart).
    pub journal_error: Option<String>,
}

/// How a run is going, given to [`Many::on_progress`] after each item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Items finished with a value.
    pub done: u64,
    /// Items finished with an error.
    pub failed: u64,
    /// Items skipped because the resume file holds their value.
    pub skipped: u64,
    /// Items being extracted now.
    pub in_flight: u64,
    /// Tokens used by the finished items.
    pub tokens: u64,
    /// How many requests waited for the rate limits before they were sent.
    pub rate_limited_waits: u64,
}

type Configure<T> = Box<dyn FnOnce(Extraction<T>) -> Extraction<T> + Send>;
type Inputs<T, Id> = Pin<Box<dyn Stream<Item = (Id, Configure<T>)> + Send>>;
type Running<T, Id> = Pin<Box<dyn Future<Output = (u64, ItemResult<T, Id>)> + Send>>;
type WriteLine<T, Id> = Box<dyn Fn(&ItemResult<T, Id>) -> Vec<u8> + Send>;
type SkipFn<Id> = Box<dyn Fn(&Id) -> bool + Send>;
type OnProgress = Box<dyn FnMut(&Progress) + Send>;

impl Client {
    /// Extracts a `T` from each input, many at a time: `configure` makes each input's
    /// [`Extraction`] (messages, parameters, validators: anything the builder takes),
    /// and the run is a [`Stream`] of [`ItemResult`]s. See [`Many`] for the limits.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt;
    /// use instructor_core::client::Client;
    /// use instructor_macros::Extract;
    /// use instructor_providers::openai::{OpenAi, OpenAiConfig};
    /// use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
    /// use serde::Deserialize;
    ///
    /// #[derive(Debug, Deserialize, Extract)]
    /// #[extract(crate = "instructor_core")]
    /// struct User {
    ///     name: String,
    ///     age: u8,
    /// }
    ///
    /// let server = FakeProvider::start().await;
    /// let provider = OpenAi::new(OpenAiConfig::new(server.base_url()).with_api_key("sk-test"));
    /// let client = Client::new(provider).with_model("gpt-4o-mini");
    /// server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
    /// server.push(ChatCompletion::tool_call("User", r#"{"name": "Bo", "age": 40}"#).reply());
    ///
    /// let texts = [(1, "Ann is 30"), (2, "Bo is 40")];
    /// let mut results = client
    ///     .extract_many::<User, _, _>(texts, |extraction, text| extraction.user(text))
    ///     .concurrency(1)
    ///     .ordered();
    /// let mut names = Vec::new();
    /// while let Some(item) = results.next().await {
    ///     names.push((item.id, item.result?.name));
    /// }
    /// assert_eq!(names, [(1, "Ann".to_owned()), (2, "Bo".to_owned())]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn extract_many<T, Id, In>(
        &self,
        inputs: impl IntoIterator<Item = (Id, In), IntoIter: Send + 'static>,
        configure: impl Fn(Extraction<T>, In) -> Extraction<T> + Send + Sync + 'static,
    ) -> Many<T, Id>
    where
        T: Extract,
        Id: Send + 'static,
        In: Send + 'static,
    {
        self.extract_many_stream(futures_util::stream::iter(inputs), configure)
    }

    /// [`Client::extract_many`] over a stream of inputs (read from a database, a
    /// channel): each input is pulled only when an item can start.
    pub fn extract_many_stream<T, Id, In>(
        &self,
        inputs: impl Stream<Item = (Id, In)> + Send + 'static,
        configure: impl Fn(Extraction<T>, In) -> Extraction<T> + Send + Sync + 'static,
    ) -> Many<T, Id>
    where
        T: Extract,
        Id: Send + 'static,
        In: Send + 'static,
    {
        let configure = Arc::new(configure);
        let inputs = inputs.map(move |(id, input)| {
            let configure = configure.clone();
            let make: Configure<T> = Box::new(move |extraction| configure(extraction, input));
            (id, make)
        });
        Many {
            client: self.clone(),
            inputs: Box::pin(inputs),
            concurrency: 8,
            limits: Limits::default(),
            max_total_tokens: None,
            ordered: false,
            on_progress: None,
            journal: None,
            write_line: None,
            skip: None,
            run: None,
        }
    }
}

/// A run of many extractions ([`Client::extract_many`]): configure it, then read it
/// as a [`Stream`] of [`ItemResult`]s (`while let Some(item) = run.next().await`).
///
/// - [`concurrency`](Many::concurrency): items in flight at once (default 8).
/// - [`requests_per_minute`](Many::requests_per_minute),
///   [`tokens_per_minute`](Many::tokens_per_minute): the pace of every HTTP request of
///   the run (re-asks and transport retries included), also held back by the provider's
///   rate-limit headers (none left: wait for the reset) before a 429 comes.
/// - [`max_total_tokens`](Many::max_total_tokens): once the finished items used this
///   many tokens, the remaining items end with [`Error::BudgetExhausted`] and are not
///   sent (items in flight finish; each item is also given what is left of the budget
///   as its own [`Extraction::max_total_tokens`], which `configure` may override).
/// - [`ordered`](Many::ordered): results in input order (default: as they finish).
/// - [`on_progress`](Many::on_progress): called after each item.
/// - [`resume_jsonl`](Many::resume_jsonl): each finished item appended to a JSON Lines
///   file; a restart with the same file skips the ids whose value it holds.
///
/// One item's failure is its own [`ItemResult`] and never stops the others.
#[must_use = "a run does nothing until its stream is read"]
pub struct Many<T: Extract, Id> {
    client: Client,
    inputs: Inputs<T, Id>,
    concurrency: usize,
    limits: Limits,
    max_total_tokens: Option<u64>,
    ordered: bool,
    on_progress: Option<OnProgress>,
    journal: Option<Journal>,
    write_line: Option<WriteLine<T, Id>>,
    skip: Option<SkipFn<Id>>,
    /// Set at the first poll.
    run: Option<Run<T, Id>>,
}

impl<T: Extract, Id> fmt::Debug for Many<T, Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Many")
            .field("type", &T::name())
            .field("concurrency", &self.concurrency)
            .field("limits", &self.limits)
            .field("max_total_tokens", &self.max_total_tokens)
            .field("ordered", &self.ordered)
            .field("progress", &self.run.as_ref().map(|run| run.progress))
            .finish_non_exhaustive()
    }
}

/// The state of a started run.
struct Run<T, Id> {
    /// The client whose provider is paced by `limiter`.
    client: Client,
    limiter: Arc<Limiter>,
    running: FuturesUnordered<Running<T, Id>>,
    /// Ordered mode: finished items waiting for the ones before them.
    waiting: BTreeMap<u64, ItemResult<T, Id>>,
    /// The number of the next item to start, and of the next to hand out.
    next_start: u64,
    next_out: u64,
    inputs_done: bool,
    progress: Progress,
}

impl<T: Extract, Id: Send + 'static> Many<T, Id> {
    /// Items in flight at once (at least 1; default 8).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// At most this many requests a minute, spaced evenly.
    pub fn requests_per_minute(mut self, rpm: u32) -> Self {
        self.limits.requests_per_minute = Some(rpm.max(1));
        self
    }

    /// At most this many tokens a minute (as the answers report them).
    pub fn tokens_per_minute(mut self, tpm: u64) -> Self {
        self.limits.tokens_per_minute = Some(tpm.max(1));
        self
    }

    /// A token budget for the whole run.
    pub fn max_total_tokens(mut self, budget: u64) -> Self {
        self.max_total_tokens = Some(budget);
        self
    }

    /// Results in input order (at most `concurrency` finished items wait for a slower
    /// one before them; no item starts further ahead).
    pub fn ordered(mut self) -> Self {
        self.ordered = true;
        self
    }

    /// Results as they finish (the default).
    pub fn unordered(mut self) -> Self {
        self.ordered = false;
        self
    }

    /// Called after each finished item, with the run's counts.
    pub fn on_progress(mut self, callback: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Appends each finished item to the JSON Lines file at `path` (created if
    /// missing) as `{"id", "ok", "value" | "error", "usage", "attempts"}`, one whole
    /// line per item, written as the item finishes; and skips the inputs whose id the
    /// file already holds with a value (they are not sent and not yielded; see
    /// [`Progress::skipped`]). Items that failed, and a torn last line left by a kill,
    /// are done again.
    ///
    /// # Errors
    ///
    /// [`ResumeError`] when the file cannot be read or opened for appending.
    pub fn resume_jsonl(mut self, path: impl AsRef<Path>) -> Result<Self, ResumeError>
    where
        T: Serialize,
        Id: Serialize + DeserializeOwned + Eq + Hash,
    {
        let (journal, done) = Journal::open::<Id>(path.as_ref())?;
        self.journal = Some(journal);
        self.write_line = Some(Box::new(|item: &ItemResult<T, Id>| {
            let line = LineOut {
                id: &item.id,
                ok: item.result.is_ok(),
                value: item.result.as_ref().ok(),
                error: item.result.as_ref().err().map(ToString::to_string),
                usage: &item.usage,
                attempts: item.attempts,
            };
            serde_json::to_vec(&line).unwrap_or_else(|error| {
                // A value that does not serialize is recorded as a failure, so that it
                // is done again rather than lost.
                let line = LineOut::<Id, T> {
                    id: &item.id,
                    ok: false,
                    value: None,
                    error: Some(format!("the value could not be written: {error}")),
                    usage: &item.usage,
                    attempts: item.attempts,
                };
                serde_json::to_vec(&line).unwrap_or_default()
            })
        }));
        let done: HashSet<Id> = done;
        self.skip = Some(Box::new(move |id| done.contains(id)));
        Ok(self)
    }

    /// The run's counts so far (all zero before the first poll).
    pub fn progress(&self) -> Progress {
        self.run.as_ref().map_or_else(Progress::default, |run| {
            let mut progress = run.progress;
            progress.rate_limited_waits = run.limiter.waits();
            progress
        })
    }

    fn start(&mut self) -> &mut Run<T, Id> {
        self.run.get_or_insert_with(|| {
            let limiter = Arc::new(Limiter::new(self.limits));
            let paced = Paced {
                inner: self.client.provider.clone(),
                limiter: limiter.clone(),
            };
            let mut client = self.client.clone();
            client.provider = Arc::new(paced);
            Run {
                client,
                limiter,
                running: FuturesUnordered::new(),
                waiting: BTreeMap::new(),
                next_start: 0,
                next_out: 0,
                inputs_done: false,
                progress: Progress::default(),
            }
        })
    }
}

impl<T: Extract, Id: Send + 'static> Stream for Many<T, Id> {
    type Item = ItemResult<T, Id>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.start();
        loop {
            let Some(run) = this.run.as_mut() else {
                return Poll::Ready(None);
            };
            if let Some(item) = run.waiting.remove(&run.next_out) {
                run.next_out += 1;
                return Poll::Ready(Some(item));
            }
            this.fill(cx);
            let Some(run) = this.run.as_mut() else {
                return Poll::Ready(None);
            };
            match run.running.poll_next_unpin(cx) {
                Poll::Ready(Some((number, item))) => {
                    let item = this.finish(item);
                    let Some(run) = this.run.as_mut() else {
                        return Poll::Ready(None);
                    };
                    if !this.ordered {
                        return Poll::Ready(Some(item));
                    }
                    run.waiting.insert(number, item);
                }
                // Nothing running: done if the inputs are, else they are pending.
                Poll::Ready(None) if run.inputs_done && run.waiting.is_empty() => {
                    return Poll::Ready(None);
                }
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: Extract, Id: Send + 'static> Many<T, Id> {
    /// Starts items while there is room (and, in order, within the window).
    fn fill(&mut self, cx: &mut Context<'_>) {
        let Some(run) = self.run.as_mut() else { return };
        let window = self.concurrency as u64;
        while !run.inputs_done
            && run.running.len() < self.concurrency
            && (!self.ordered || run.next_start - run.next_out < window)
        {
            let (id, configure) = match self.inputs.poll_next_unpin(cx) {
                Poll::Ready(Some(input)) => input,
                Poll::Ready(None) => {
                    run.inputs_done = true;
                    break;
                }
                Poll::Pending => break,
            };
            if self.skip.as_ref().is_some_and(|skip| skip(&id)) {
                run.progress.skipped += 1;
                continue;
            }
            let number = run.next_start;
            run.next_start += 1;
            let used = run.progress.tokens;
            let left = self
                .max_total_tokens
                .map(|limit| (limit, limit.saturating_sub(used)));
            let future: Running<T, Id> = match left {
                Some((limit, 0)) => {
                    let item = ItemResult {
                        id,
                        result: Err(Error::BudgetExhausted {
                            used,
                            limit,
                            ledger: Ledger::default(),
                        }),
                        usage: Usage::default(),
                        attempts: 0,
                        journal_error: None,
                    };
                    Box::pin(std::future::ready((number, item)))
                }
                _ => {
                    let mut extraction = run.client.extract::<T>();
                    if let Some((_, left)) = left {
                        extraction = extraction.max_total_tokens(left);
                    }
                    let extraction = configure(extraction);
                    Box::pin(async move {
                        let (result, ledger) = match extraction.with_completion().await {
                            Ok(done) => (Ok(done.value), done.ledger),
                            Err(error) => {
                                let ledger = error.ledger().cloned().unwrap_or_default();
                                (Err(error), ledger)
                            }
                        };
                        let item = ItemResult {
                            id,
                            result,
                            usage: ledger.total_usage,
                            attempts: u32::try_from(ledger.attempts.len()).unwrap_or(u32::MAX),
                            journal_error: None,
                        };
                        (number, item)
                    })
                }
            };
            run.running.push(future);
        }
        run.progress.in_flight = run.running.len() as u64;
    }

    /// Counts a finished item, writes its line, reports progress.
    fn finish(&mut self, mut item: ItemResult<T, Id>) -> ItemResult<T, Id> {
        if let (Some(journal), Some(write_line)) = (self.journal.as_mut(), &self.write_line) {
            item.journal_error = journal.append(write_line(&item)).err();
        }
        if let Some(run) = self.run.as_mut() {
            let progress = &mut run.progress;
            match item.result {
                Ok(_) => progress.done += 1,
                Err(_) => progress.failed += 1,
            }
            progress.tokens = progress.tokens.saturating_add(item.usage.total());
            progress.in_flight = run.running.len() as u64;
            progress.rate_limited_waits = run.limiter.waits();
            if let Some(callback) = self.on_progress.as_mut() {
                callback(progress);
            }
        }
        item
    }
}
