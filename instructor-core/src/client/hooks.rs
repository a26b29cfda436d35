//! Hooks: callbacks at each step of an extraction. Payloads are the neutral request and
//! response, which never hold an API key (the key lives in the provider's config and
//! is added to the HTTP request only).

use super::error::{Error, StopReason, StoppedBy};
use crate::chat::{ChatRequest, ChatResponse, ProviderError, Usage};
use crate::validate::Stop;
use crate::validate::ValidationErrors;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum HookEvent<'a> {
    /// A request is about to be sent.
    Request {
        /// 1 for the first attempt.
        attempt: u32,
        /// The neutral request (the provider's body is built from it).
        request: &'a ChatRequest,
        /// The body the provider sends, where it can say (never holds the key).
        body: Option<&'a serde_json::Value>,
    },
    /// A response arrived.
    Response {
        /// Which attempt.
        attempt: u32,
        /// The response, raw body included.
        response: &'a ChatResponse,
    },
    /// The answer could not be read.
    ParseError {
        /// Which attempt.
        attempt: u32,
        /// Why.
        message: &'a str,
    },
    /// The answer failed validation.
    ValidationError {
        /// Which attempt.
        attempt: u32,
        /// What failed.
        errors: &'a ValidationErrors,
    },
    /// Another attempt follows (a re-ask, or a retry after truncation).
    Retry {
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        reason: &'static str,
    },
    /// A transport failure is retried after `wait`.
    TransportRetry {
        /// Which attempt.
        attempt: u32,
        /// The failure.
        error: &'a ProviderError,
        /// The wait before retrying.
        wait: Duration,
    },
    /// The last allowed attempt is starting.
    LastAttempt {
        /// Its number.
        attempt: u32,
    },
    /// Tokens were reported.
    Usage {
        /// Which attempt.
        attempt: u32,
        /// This attempt's usage.
        usage: &'a Usage,
        /// All attempts so far.
        total: &'a Usage,
    },
    /// The extraction failed.
    Error {
        /// The error.
        error: &'a Error,
    },
}

impl HookEvent<'_> {
    /// The event's kind, in words (`request`, `validation_error`, `retry`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            HookEvent::Request { .. } => "request",
            HookEvent::Response { .. } => "response",
            HookEvent::ParseError { .. } => "parse_error",
            HookEvent::ValidationError { .. } => "validation_error",
            HookEvent::Retry { .. } => "retry",
            HookEvent::TransportRetry { .. } => "transport_retry",
            HookEvent::LastAttempt { .. } => "last_attempt",
            HookEvent::Usage { .. } => "usage",
            HookEvent::Error { .. } => "error",
        }
    }
}

type Callback = Arc<dyn Fn(&HookEvent<'_>) + Send + Sync>;
type Stopper = Arc<dyn Fn(&HookEvent<'_>) -> Option<Stop> + Send + Sync>;

/// A set of callbacks, called in order for every event.
///
/// ```
/// use instructor_core::client::{HookEvent, Hooks};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
///
/// let retries = Arc::new(AtomicU32::new(0));
/// let counter = retries.clone();
/// let hooks = Hooks::new().on(move |event| {
///     if let HookEvent::Retry { .. } = event {
///         counter.fetch_add(1, Ordering::Relaxed);
///     }
/// });
/// # let _ = hooks;
/// ```
#[derive(Clone, Default)]
pub struct Hooks {
    callbacks: Vec<Callback>,
    stoppers: Vec<Stopper>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Hooks({} callbacks, {} stoppers)",
            self.callbacks.len(),
            self.stoppers.len()
        )
    }
}

impl Hooks {
    /// No callbacks.
    pub fn new() -> Self {
        Hooks::default()
    }

    /// Adds a callback for every event.
    pub fn on(mut self, callback: impl Fn(&HookEvent<'_>) + Send + Sync + 'static) -> Self {
        self.callbacks.push(Arc::new(callback));
        self
    }

    /// Adds a callback that may end the extraction: when it returns a [`Stop`] for an
    /// event, no further attempt is made (no re-ask, no retry after truncation, no
    /// transport retry) and the extraction ends with `Error::Stopped`, whose reason
    /// names the hook's event. The answer in flight, if any, is judged first: a valid
    /// value is still returned.
    ///
    /// ```
    /// use instructor_core::client::{HookEvent, Hooks};
    /// use instructor_core::validate::Stop;
    ///
    /// // Re-asking a model that keeps inventing a field is money spent twice.
    /// let hooks = Hooks::new().stop_when(|event| match event {
    ///     HookEvent::ValidationError { errors, .. }
    ///         if errors.errors().iter().any(|e| e.path_string() == "invoice_id") =>
    ///     {
    ///         Some(Stop::new("no invoice id in the document"))
    ///     }
    ///     _ => None,
    /// });
    /// # let _ = hooks;
    /// ```
    pub fn stop_when(
        mut self,
        stopper: impl Fn(&HookEvent<'_>) -> Option<Stop> + Send + Sync + 'static,
    ) -> Self {
        self.stoppers.push(Arc::new(stopper));
        self
    }

    /// These callbacks, then `other`'s.
    pub fn merged(mut self, other: Hooks) -> Self {
        self.callbacks.extend(other.callbacks);
        self.stoppers.extend(other.stoppers);
        self
    }

    /// Whether any callback is registered (payloads are built only then).
    pub fn is_active(&self) -> bool {
        !self.callbacks.is_empty() || !self.stoppers.is_empty()
    }

    /// Calls every callback, then asks every stopper; the first [`Stop`] is returned
    /// (the engine ends the extraction at its next decision).
    pub fn emit(&self, event: &HookEvent<'_>) -> Option<StopReason> {
        for callback in &self.callbacks {
            callback(event);
        }
        self.stoppers.iter().find_map(|stopper| {
            stopper(event).map(|stop| StopReason {
                by: StoppedBy::Hook {
                    event: event.kind(),
                },
                message: stop.message,
                errors: None,
                raw_output: None,
            })
        })
    }
}
