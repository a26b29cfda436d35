//! Provider batch engines (OpenAI Batch, Anthropic Message Batches, Gemini batch
//! mode): many extractions handed to the provider at once, answered within hours at
//! a lower price.
//!
//! Each line is built by the same builder as a single extraction
//! ([`Extraction::into_batch_item`]) and each answer is read and validated by the same
//! engine (`read_answer`, then the attempt's verdict: the type's rules, the async
//! validators, the context, the validators' fixes). An answer that fails and has
//! re-asks left comes back as a [`BatchItem`] with the failed answer and the errors
//! appended as a live re-ask would, to submit as a second batch or to run live
//! ([`BatchItem::live`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use instructor_core::client::{Batch, Client};
//! use instructor_macros::Extract;
//! use instructor_providers::openai::{OpenAi, OpenAiBatch, OpenAiConfig};
//! use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
//! use serde::Deserialize;
//! use std::time::Duration;
//!
//! #[derive(Debug, Deserialize, Extract)]
//! #[extract(crate = "instructor_core")]
//! struct User {
//!     name: String,
//!     age: u8,
//! }
//!
//! // A local server with OpenAI's batch endpoints; `OpenAiBatch::from_env()` for the real one.
//! let server = FakeProvider::start().await;
//! let config = OpenAiConfig::new(server.base_url()).with_api_key("sk-test");
//! let client = Client::new(OpenAi::new(config.clone())).with_model("gpt-4o-mini");
//! let batch = Batch::new(OpenAiBatch::new(config));
//! server.push(ChatCompletion::tool_call("User", r#"{"name": "Ann", "age": 30}"#).reply());
//!
//! let item = client.extract::<User>().user("Ann is 30").into_batch_item("ann")?;
//! let job = batch.submit(vec![item]).await?;
//! job.wait(Duration::from_millis(1)).await?;
//! let results = job.results().await?;
//! assert_eq!(results.succeeded[0].1.value.name, "Ann");
//! # Ok(())
//! # }
//! ```

use super::answer::read_answer;
use super::attempt::{Engine, Verdict};
use super::extraction::Extraction;
use super::{Completion, Error, Ledger, whole};
use crate::chat::{BoxFuture, ChatRequest, ChatResponse, ProviderError};
use crate::extract::Extract;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// The longest custom id: the strictest engine's limit (Anthropic's 64).
pub const MAX_CUSTOM_ID_BYTES: usize = 64;

/// One line of a batch as a provider sends it: its id and the request.
#[derive(Debug, Clone, Copy)]
pub struct BatchRequest<'a> {
    /// The caller's id of the line (`[A-Za-z0-9_-]{1,64}`).
    pub custom_id: &'a str,
    /// The request, as a single extraction would send it.
    pub request: &'a ChatRequest,
}

/// Where a batch is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatchState {
    /// Accepted, not yet started (OpenAI `validating`, Gemini `BATCH_STATE_PENDING`).
    Pending,
    /// Being answered.
    Running,
    /// Answered, results being written (OpenAI `finalizing`).
    Finalizing,
    /// Done: results can be read.
    Ended,
    /// The batch failed as a whole (OpenAI `failed`).
    Failed,
    /// The completion window passed; answered lines can still be read.
    Expired,
    /// A cancel was asked, in progress.
    Canceling,
    /// Canceled; answered lines can still be read.
    Canceled,
    /// A state this library does not know (as the server said it, redacted, bounded).
    Other(String),
}

impl BatchState {
    /// Whether the batch will not change any more (results can be read).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            BatchState::Ended | BatchState::Failed | BatchState::Expired | BatchState::Canceled
        )
    }
}

/// How many lines are where, as the provider counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BatchCounts {
    /// Lines in the batch.
    pub total: u64,
    /// Lines answered.
    pub succeeded: u64,
    /// Lines that failed (errors, expired, canceled).
    pub failed: u64,
}

/// A batch's status, as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchStatus {
    /// The provider's id of the batch (checked, bounded).
    pub id: String,
    /// Where it is.
    pub state: BatchState,
    /// Counts, where the provider gives them.
    pub counts: Option<BatchCounts>,
}

impl BatchStatus {
    /// A status.
    pub fn new(id: impl Into<String>, state: BatchState, counts: Option<BatchCounts>) -> Self {
        BatchStatus {
            id: id.into(),
            state,
            counts,
        }
    }
}

/// What the provider answered for one line.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchOutcome {
    /// The response, read by the same parser as a single answer.
    Response(Box<ChatResponse>),
    /// The line failed at the provider (an error status or an error object).
    Error(ProviderError),
    /// The batch expired before this line was answered.
    Expired,
    /// The batch was canceled before this line was answered.
    Canceled,
}

/// One line of a batch's results.
#[derive(Debug)]
pub struct BatchLine {
    /// The custom id the line was sent with.
    pub custom_id: String,
    /// What came of it.
    pub outcome: BatchOutcome,
}

/// The lines of a batch's results, read one at a time (a result file is never held
/// whole).
pub type BatchLines<'a> =
    Pin<Box<dyn futures_core::Stream<Item = Result<BatchLine, ProviderError>> + Send + 'a>>;

/// A provider's batch engine: the wire side of [`Batch`].
pub trait BatchProvider: Send + Sync + fmt::Debug {
    /// The provider's name, as [`Provider::name`](crate::chat::Provider::name) gives
    /// it: items built for another provider are refused.
    fn name(&self) -> &str;

    /// Submits the lines; the batch's first status.
    fn submit<'a>(
        &'a self,
        requests: &'a [BatchRequest<'a>],
    ) -> BoxFuture<'a, Result<BatchStatus, ProviderError>>;

    /// The batch's status now.
    fn status<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>>;

    /// The batch's result lines (of a batch in a terminal state).
    fn results<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchLines<'a>, ProviderError>>;

    /// Asks the provider to cancel the batch; its status after the request.
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>>;
}

/// One extraction waiting to be sent in a batch: its custom id and the engine that
/// built its request and will judge its answer.
pub struct BatchItem<T> {
    id: String,
    engine: Engine<T>,
}

impl<T> fmt::Debug for BatchItem<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchItem")
            .field("id", &self.id)
            .field("model", &self.engine.request.model)
            .field("messages", &self.engine.request.messages.len())
            .finish_non_exhaustive()
    }
}

impl<T: Extract> BatchItem<T> {
    /// The custom id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The request this item sends (after a failed answer: with the re-ask appended).
    pub fn request(&self) -> &ChatRequest {
        &self.engine.request
    }

    /// Runs this item live instead of in a batch: the same loop as `.await` on the
    /// extraction, continuing its attempts (a re-ask item sends its re-ask).
    pub async fn live(self) -> Result<Completion<T>, Error> {
        whole::run(self.engine, true).await
    }
}

impl<T: Extract> Extraction<T> {
    /// This extraction as one line of a batch, with `id` as its custom id
    /// (`[A-Za-z0-9_-]{1,64}`, unique within the batch): the request built and checked
    /// as `.await` would build it, nothing sent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for an id of another shape, and every error building
    /// the request gives before sending.
    ///
    /// The attempt is counted, and the `Request`, `Response` and validation hooks run,
    /// when the item's answer is read ([`BatchJob::results`]), not at submission.
    pub fn into_batch_item(self, id: impl Into<String>) -> Result<BatchItem<T>, Error> {
        let id = id.into();
        check_custom_id(&id)?;
        let mut engine = self.engine(false)?;
        engine.open_span();
        engine.keep_raw = true;
        Ok(BatchItem { id, engine })
    }
}

fn check_custom_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= MAX_CUSTOM_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest {
            reason: format!(
                "a batch custom id must be 1 to {MAX_CUSTOM_ID_BYTES} characters of \
                 `A-Z a-z 0-9 _ -`, not {:?}",
                bounded(id, MAX_CUSTOM_ID_BYTES + 8)
            ),
        })
    }
}

fn bounded(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn provider_error(error: ProviderError) -> Error {
    Error::Provider {
        error: Box::new(error),
        ledger: Ledger::default(),
    }
}

/// A provider's batch engine, for submitting [`BatchItem`]s. Cheap to clone.
#[derive(Clone)]
pub struct Batch {
    provider: Arc<dyn BatchProvider>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("provider", &self.provider)
            .finish()
    }
}

impl Batch {
    /// The batch engine of `provider`.
    pub fn new(provider: impl BatchProvider + 'static) -> Self {
        Batch::from_shared(Arc::new(provider))
    }

    /// The batch engine of a shared provider (the one a [`Client`](super::Client)
    /// shares too).
    pub fn from_shared(provider: Arc<dyn BatchProvider>) -> Self {
        Batch { provider }
    }

    /// Submits `items` as one batch.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for no items, a repeated custom id, or an item built
    /// for another provider (nothing is sent); [`Error::Provider`] when the provider
    /// refuses the batch.
    pub async fn submit<T: Extract>(
        &self,
        items: impl IntoIterator<Item = BatchItem<T>>,
    ) -> Result<BatchJob<T>, Error> {
        let items: Vec<BatchItem<T>> = items.into_iter().collect();
        let items = self.checked(items)?;
        let requests: Vec<BatchRequest<'_>> = items
            .iter()
            .map(|item| BatchRequest {
                custom_id: &item.id,
                request: &item.engine.request,
            })
            .collect();
        let status = self
            .provider
            .submit(&requests)
            .await
            .map_err(provider_error)?;
        drop(requests);
        Ok(BatchJob {
            provider: Arc::clone(&self.provider),
            status,
            items,
        })
    }

    /// A job submitted earlier (by this process before a restart, say), given its id
    /// and the items it was submitted with (built again the same way).
    ///
    /// # Errors
    ///
    /// As [`Batch::submit`]'s checks; nothing is sent.
    pub fn resume<T: Extract>(
        &self,
        id: impl Into<String>,
        items: impl IntoIterator<Item = BatchItem<T>>,
    ) -> Result<BatchJob<T>, Error> {
        let items = self.checked(items.into_iter().collect())?;
        Ok(BatchJob {
            provider: Arc::clone(&self.provider),
            status: BatchStatus::new(id, BatchState::Other("unknown".to_owned()), None),
            items,
        })
    }

    fn checked<T>(&self, items: Vec<BatchItem<T>>) -> Result<Vec<BatchItem<T>>, Error> {
        if items.is_empty() {
            return Err(Error::InvalidRequest {
                reason: "a batch needs at least one item".to_owned(),
            });
        }
        let mut seen = HashMap::with_capacity(items.len());
        for item in &items {
            if seen.insert(item.id.as_str(), ()).is_some() {
                return Err(Error::InvalidRequest {
                    reason: format!("the custom id {:?} is used twice in the batch", item.id),
                });
            }
            let built_for = item.engine.provider.name();
            if built_for != self.provider.name() {
                return Err(Error::InvalidRequest {
                    reason: format!(
                        "item {:?} was built for the provider `{built_for}`, not `{}`",
                        item.id,
                        self.provider.name()
                    ),
                });
            }
        }
        Ok(items)
    }
}

/// A submitted batch: poll it, wait for it, cancel it, read its results.
pub struct BatchJob<T> {
    provider: Arc<dyn BatchProvider>,
    status: BatchStatus,
    items: Vec<BatchItem<T>>,
}

impl<T> fmt::Debug for BatchJob<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchJob")
            .field("provider", &self.provider.name())
            .field("status", &self.status)
            .field("items", &self.items.len())
            .finish()
    }
}

impl<T: Extract> BatchJob<T> {
    /// The provider's id of the batch (keep it to [`Batch::resume`] the job).
    pub fn id(&self) -> &str {
        &self.status.id
    }

    /// The status the provider gave at submission.
    pub fn submitted_status(&self) -> &BatchStatus {
        &self.status
    }

    /// The custom ids of the items, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|item| item.id.as_str())
    }

    /// The batch's status now.
    ///
    /// # Errors
    ///
    /// [`Error::Provider`] when it cannot be read.
    pub async fn status(&self) -> Result<BatchStatus, Error> {
        self.provider
            .status(&self.status.id)
            .await
            .map_err(provider_error)
    }

    /// Polls every `poll_interval` until the batch is in a terminal state (ended,
    /// failed, expired or canceled); that status. Bound it with a timeout of your own
    /// (`tokio::time::timeout`) if it must not wait for the whole completion window.
    ///
    /// # Errors
    ///
    /// [`Error::Provider`] when a poll fails.
    pub async fn wait(&self, poll_interval: Duration) -> Result<BatchStatus, Error> {
        loop {
            let status = self.status().await?;
            if status.state.is_terminal() {
                return Ok(status);
            }
            tokio::time::sleep(poll_interval).await;
        }
    }

    /// Asks the provider to cancel the batch; lines answered before the cancel stay
    /// readable with [`BatchJob::results`], the others are reported canceled.
    ///
    /// # Errors
    ///
    /// [`Error::Provider`] when the provider refuses.
    pub async fn cancel(&self) -> Result<BatchStatus, Error> {
        self.provider
            .cancel(&self.status.id)
            .await
            .map_err(provider_error)
    }

    /// Reads the results line by line and judges each answer as a single extraction
    /// would: read, validated (rules, async validators, context), fixed where the
    /// validators offered fixes. Lines come back in the order the items were given.
    ///
    /// # Errors
    ///
    /// [`Error::Provider`] when the results cannot be read (the batch is not done, a
    /// download fails, a line is too long or unreadable as a result line).
    pub async fn results(self) -> Result<BatchResults<T>, Error> {
        let BatchJob {
            provider,
            status,
            items,
        } = self;
        let state = provider
            .status(&status.id)
            .await
            .map_err(provider_error)?
            .state;
        let index: HashMap<String, usize> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.id.clone(), i))
            .collect();
        let mut slots: Vec<Option<BatchItem<T>>> = items.into_iter().map(Some).collect();
        let mut outcomes: Vec<Option<ItemOutcome<T>>> = (0..slots.len()).map(|_| None).collect();
        let mut unknown_lines = 0usize;
        let mut lines = provider.results(&status.id).await.map_err(provider_error)?;
        while let Some(line) = lines.next().await {
            let line = line.map_err(provider_error)?;
            let Some(&at) = index.get(&line.custom_id) else {
                unknown_lines += 1;
                continue;
            };
            let Some(item) = slots[at].take() else {
                // The same id twice: the first answer stands.
                unknown_lines += 1;
                continue;
            };
            outcomes[at] = Some(judge(item, line.outcome).await);
        }
        drop(lines);
        let mut results = BatchResults {
            succeeded: Vec::new(),
            failed: Vec::new(),
            unknown_lines,
        };
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            let outcome = match (slot, outcome) {
                (_, Some(outcome)) => outcome,
                (Some(item), None) => {
                    let error = match state {
                        BatchState::Expired => BatchError::Expired,
                        BatchState::Canceled | BatchState::Canceling => BatchError::Canceled,
                        _ => BatchError::Missing,
                    };
                    ItemOutcome::Failed(BatchFailure {
                        id: item.id.clone(),
                        error,
                        retry: Some(item),
                    })
                }
                (None, None) => continue,
            };
            match outcome {
                ItemOutcome::Done(id, done) => results.succeeded.push((id, done)),
                ItemOutcome::Failed(failure) => results.failed.push(failure),
            }
        }
        Ok(results)
    }
}

// Not boxed: an outcome lives until it is pushed into the results, and either variant
// is large; a box would only add an allocation per line.
#[allow(clippy::large_enum_variant)]
enum ItemOutcome<T> {
    Done(String, Completion<T>),
    Failed(BatchFailure<T>),
}

/// One line's outcome, judged by the item's engine as a single extraction's answer.
async fn judge<T: Extract>(mut item: BatchItem<T>, outcome: BatchOutcome) -> ItemOutcome<T> {
    let failed = |item: BatchItem<T>, error: BatchError, retry: bool| {
        ItemOutcome::Failed(BatchFailure {
            id: item.id.clone(),
            error,
            retry: retry.then_some(item),
        })
    };
    let response = match outcome {
        BatchOutcome::Response(response) => *response,
        BatchOutcome::Error(error) => return failed(item, BatchError::Provider(error), true),
        BatchOutcome::Expired => return failed(item, BatchError::Expired, true),
        BatchOutcome::Canceled => return failed(item, BatchError::Canceled, true),
    };
    let span = item.engine.span.clone();
    let engine = &mut item.engine;
    let verdict = async {
        // The attempt is counted when its answer arrives: a line the provider never
        // answered uses up no re-ask.
        if let Err(error) = engine.begin_attempt() {
            return Verdict::Fail(error);
        }
        let mut response = response;
        engine.received(&mut response);
        let answer = read_answer::<T>(&engine.spec, &response);
        engine.judge(response, answer).await
    }
    .instrument(span)
    .await;
    match verdict {
        Verdict::Done(done) => ItemOutcome::Done(item.id, done),
        Verdict::Again(reason) => failed(item, BatchError::Invalid { reason }, true),
        Verdict::Fail(error) => {
            let error = item.engine.fail(error);
            failed(item, BatchError::Extraction(Box::new(error)), false)
        }
    }
}

/// Why one line gave no value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The provider answered the line with an error.
    #[error("the provider failed this line: {0}")]
    Provider(ProviderError),
    /// The batch expired before the line was answered.
    #[error("the batch expired before this line was answered")]
    Expired,
    /// The batch was canceled before the line was answered.
    #[error("the batch was canceled before this line was answered")]
    Canceled,
    /// The results hold no line for this item.
    #[error("the results hold no line for this item")]
    Missing,
    /// The answer was not valid and can be asked again: the item in
    /// [`BatchFailure::retry`] holds the re-ask.
    #[error("{reason}")]
    Invalid {
        /// What was wrong, as the re-ask tells the model.
        reason: String,
    },
    /// The answer ended the extraction: the last attempt was invalid, a refusal,
    /// truncation, a stop; the error a single extraction would give.
    #[error("{0}")]
    Extraction(Box<Error>),
}

/// A line that gave no value.
pub struct BatchFailure<T> {
    /// The item's custom id.
    pub id: String,
    /// Why.
    pub error: BatchError,
    /// The item to send again (in a second batch or live): with the re-ask appended
    /// after an invalid answer, as it was for a line the provider did not answer.
    /// `None` when the extraction is over ([`BatchError::Extraction`]).
    pub retry: Option<BatchItem<T>>,
}

impl<T> fmt::Debug for BatchFailure<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchFailure")
            .field("id", &self.id)
            .field("error", &self.error)
            .field("retry", &self.retry.is_some())
            .finish()
    }
}

/// A batch's results, in the order the items were given.
pub struct BatchResults<T> {
    /// The values, with their custom ids.
    pub succeeded: Vec<(String, Completion<T>)>,
    /// The lines that gave no value, with their ids.
    pub failed: Vec<BatchFailure<T>>,
    /// Result lines attributed to no item: a custom id of no item (or of one already
    /// answered), or a line the provider could not read (not JSON, no custom id).
    pub unknown_lines: usize,
}

impl<T: fmt::Debug> fmt::Debug for BatchResults<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchResults")
            .field("succeeded", &self.succeeded)
            .field("failed", &self.failed)
            .field("unknown_lines", &self.unknown_lines)
            .finish()
    }
}

impl<T> BatchResults<T> {
    /// Takes the items to send again (re-asks of invalid answers, lines not answered),
    /// for a follow-up batch or a live run.
    pub fn take_retries(&mut self) -> Vec<BatchItem<T>> {
        self.failed
            .iter_mut()
            .filter_map(|failure| failure.retry.take())
            .collect()
    }
}
