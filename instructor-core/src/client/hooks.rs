//! Hooks: callbacks at each step of an extraction. Payloads are the neutral request and
//! response, which never hold an API key (the key lives in the provider's config and
//! is added to the HTTP request only).

use super::error::Error;
use crate::chat::{ChatRequest, ChatResponse, ProviderError, Usage};
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

type Callback = Arc<dyn Fn(&HookEvent<'_>) + Send + Sync>;

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
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hooks({} callbacks)", self.callbacks.len())
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

    /// These callbacks, then `other`'s.
    pub fn merged(mut self, other: Hooks) -> Self {
        self.callbacks.extend(other.callbacks);
        self
    }

    /// Whether any callback is registered (payloads are built only then).
    pub fn is_active(&self) -> bool {
        !self.callbacks.is_empty()
    }

    /// Calls every callback.
    pub fn emit(&self, event: &HookEvent<'_>) {
        for callback in &self.callbacks {
            callback(event);
        }
    }
}
