//! The one error type of an extraction, and the attempt ledger every error after an
//! attempt carries.

use crate::chat::{Mode, ProviderError, Usage};
use crate::path::WirePath;
use crate::validate::ValidationErrors;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One attempt: a request sent and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// 1 for the first attempt, 2 for the first re-ask, ...
    pub number: u32,
    /// The provider asked (`openai`, `anthropic`, ...): the client's, or in a
    /// fallback chain the link that answered or failed. A link that failed over before
    /// another answered is an attempt of its own, with the same number.
    pub provider: String,
    /// The provider's request or response id.
    pub request_id: Option<String>,
    /// Time from sending to the complete answer (transport retries included).
    pub latency: Duration,
    /// Tokens of this attempt, as reported.
    pub usage: Option<Usage>,
    /// Transport failures retried within this attempt.
    pub transport_retries: u32,
    /// What the model answered (the JSON text read, or the text). Shared with the
    /// response: a tool call's arguments are this same text, not a copy.
    pub raw_output: Option<Arc<str>>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
    /// What the call was for: the answer, or a validator's check of it.
    pub kind: AttemptKind,
}

impl Attempt {
    /// The providers of a fallback chain that failed before another answered (or before
    /// the chain gave up), each as a failed attempt numbered `number`, their errors
    /// redacted by `provider`.
    pub(crate) fn failed_over(
        failed: &[crate::chat::FailedOver],
        number: u32,
        latency: Duration,
        transport_retries: u32,
        provider: &dyn crate::chat::Provider,
    ) -> impl Iterator<Item = Attempt> {
        failed.iter().map(move |link| Attempt {
            number,
            provider: link.provider.clone(),
            request_id: link.error.request_id().map(str::to_owned),
            latency,
            usage: None,
            transport_retries,
            raw_output: None,
            error: Some(provider.redact(&link.error.to_string())),
            kind: AttemptKind::Answer,
        })
    }
}

/// What a call in the ledger was for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AttemptKind {
    /// Asking for the answer (the first attempt, a re-ask, a retry).
    #[default]
    Answer,
    /// A validator asking a model about the answer of attempt `number` (an LLM
    /// validator, [`ValidationCalls`](super::ValidationCalls)).
    Validation {
        /// The validator (an LLM validator's statement).
        validator: String,
    },
}

/// Every attempt of an extraction and the tokens they used together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// The attempts, in order.
    pub attempts: Vec<Attempt>,
    /// Tokens of all attempts (failed ones are billed too).
    pub total_usage: Usage,
}

impl fmt::Display for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} attempt(s), {} tokens",
            self.attempts.len(),
            self.total_usage.total()
        )
    }
}

/// Who ended an extraction early ([`Error::Stopped`]), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReason {
    /// A validator (at the path of the value it checked) or a hook.
    pub by: StoppedBy,
    /// Why another attempt would not help.
    pub message: String,
    /// The answer's validation errors, when the answer failed validation (all of them,
    /// a stopping validator's included).
    pub errors: Option<ValidationErrors>,
    /// What the model answered last, when there was an answer.
    pub raw_output: Option<String>,
}

/// What stopped an extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoppedBy {
    /// A validator returned a [`Stop`](crate::validate::Stop) for the value at `path`.
    Validator {
        /// Where (the root for the whole value).
        path: WirePath,
    },
    /// A hook of [`Hooks::stop_when`](super::Hooks::stop_when), on this event kind
    /// (`validation_error`, `retry`, `usage`, ...).
    Hook {
        /// The event it stopped on.
        event: &'static str,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.by {
            StoppedBy::Validator { path } if path.is_root() => {
                write!(f, "a validator: {}", self.message)
            }
            StoppedBy::Validator { path } => write!(f, "a validator at {path}: {}", self.message),
            StoppedBy::Hook { event } => write!(f, "a hook on {event}: {}", self.message),
        }
    }
}

/// Why an extraction did not produce a value.
///
/// Every error after an attempt carries the [`Ledger`]: each attempt with its request
/// id, latency, usage, raw output and error. The enum is non-exhaustive, so a `match`
/// ends with a catch-all. The `instructor` crate's docs of `Error` run an extraction
/// that ends in `Error::Validation` against the local fake provider (which this crate
/// cannot depend on).
///
/// ```
/// use instructor_core::client::Error;
///
/// fn what_to_do(error: &Error) -> &'static str {
///     match error {
///         Error::UnsupportedMode { .. } | Error::InvalidRequest { .. } => "fix the call",
///         Error::Refusal { .. } | Error::ContentFilter { .. } => "tell the user",
///         Error::Validation { .. } | Error::Parse { .. } => "try another model",
///         _ => "try again later",
///     }
/// }
///
/// let error = Error::InvalidRequest { reason: "no model".into() };
/// assert_eq!(error.to_string(), "invalid request: no model");
/// assert_eq!(what_to_do(&error), "fix the call");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider (or model) cannot serve the requested mode; nothing was sent.
    #[error("unsupported mode: {reason}")]
    UnsupportedMode {
        /// The mode asked for.
        mode: Mode,
        /// Why it cannot be served.
        reason: String,
    },
    /// The request could not be built (no model, a schema the dialect refuses).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The provider failed and retrying did not help (or the failure is not retryable).
    #[error("provider error: {error} ({ledger})")]
    Provider {
        /// The last failure.
        error: Box<ProviderError>,
        /// The attempts so far.
        ledger: Ledger,
    },
    /// The deadline passed.
    #[error("timed out after {elapsed:?} ({ledger})")]
    Timeout {
        /// Time spent.
        elapsed: Duration,
        /// The attempts so far.
        ledger: Ledger,
    },
    /// The answer hit the token limit and is cut (`finish_reason: length`).
    #[error("the answer was cut at the token limit ({ledger})")]
    Truncated {
        /// What arrived before the cut.
        partial_output: Option<String>,
        /// The attempts so far.
        ledger: Ledger,
    },
    /// The model refused.
    #[error("the model refused: {text}")]
    Refusal {
        /// The model's words.
        text: String,
        /// The attempts so far.
        ledger: Ledger,
    },
    /// The provider's content filter stopped the answer.
    #[error("the provider's content filter stopped the answer ({ledger})")]
    ContentFilter {
        /// The attempts so far.
        ledger: Ledger,
    },
    /// The last answer was not a readable value, and no retry was left.
    #[error("could not read the answer: {message} ({ledger})")]
    Parse {
        /// What was wrong, with the field path where known.
        message: String,
        /// What the model answered.
        raw_output: Option<String>,
        /// The attempts.
        ledger: Ledger,
    },
    /// The last answer failed validation, and no retry was left.
    #[error("the answer failed validation:\n{errors}\n({ledger})")]
    Validation {
        /// What failed, by field path.
        errors: ValidationErrors,
        /// What the model answered.
        raw_output: Option<String>,
        /// The attempts.
        ledger: Ledger,
    },
    /// One item of a streamed list (`.iter()`) is not a valid value; the items before
    /// and after it are not affected.
    #[error("item {index} of the list is not valid: {message}")]
    Item {
        /// The item's position in the list (0 for the first).
        index: usize,
        /// Why, with field paths inside the item.
        message: String,
    },
    /// A validator or a hook ended the extraction before its attempts ran out
    /// ([`Stop`](crate::validate::Stop)): another attempt would not help.
    #[error("stopped by {reason} ({ledger})")]
    Stopped {
        /// Who stopped it, where and why, with what was wrong with the answer.
        reason: Box<StopReason>,
        /// The attempts.
        ledger: Ledger,
    },
    /// The token budget is spent; no further attempt was made.
    #[error("token budget of {limit} exhausted after {used} tokens ({ledger})")]
    BudgetExhausted {
        /// Tokens used.
        used: u64,
        /// The budget.
        limit: u64,
        /// The attempts.
        ledger: Ledger,
    },
}

impl Error {
    /// The attempt ledger, for every error that follows attempts.
    pub fn ledger(&self) -> Option<&Ledger> {
        match self {
            Error::UnsupportedMode { .. } | Error::InvalidRequest { .. } | Error::Item { .. } => {
                None
            }
            Error::Provider { ledger, .. }
            | Error::Timeout { ledger, .. }
            | Error::Truncated { ledger, .. }
            | Error::Refusal { ledger, .. }
            | Error::ContentFilter { ledger }
            | Error::Parse { ledger, .. }
            | Error::Validation { ledger, .. }
            | Error::Stopped { ledger, .. }
            | Error::BudgetExhausted { ledger, .. } => Some(ledger),
        }
    }

    /// [`Error::ledger`], to add to.
    pub(crate) fn ledger_mut(&mut self) -> Option<&mut Ledger> {
        match self {
            Error::UnsupportedMode { .. } | Error::InvalidRequest { .. } | Error::Item { .. } => {
                None
            }
            Error::Provider { ledger, .. }
            | Error::Timeout { ledger, .. }
            | Error::Truncated { ledger, .. }
            | Error::Refusal { ledger, .. }
            | Error::ContentFilter { ledger }
            | Error::Parse { ledger, .. }
            | Error::Validation { ledger, .. }
            | Error::Stopped { ledger, .. }
            | Error::BudgetExhausted { ledger, .. } => Some(ledger),
        }
    }
}
