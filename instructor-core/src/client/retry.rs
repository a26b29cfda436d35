//! Backoff for transport failures.

use std::time::Duration;

/// How transport failures (connect errors, timeouts, 408, 409, 429, 5xx) are retried:
/// exponential backoff with jitter, a `retry-after` from the provider taking
/// precedence (capped). These retries never enter the conversation and never use up
/// re-asks.
///
/// Defaults: 2 retries (as the official SDKs), 500 ms doubling up to 30 s, ±25 %
/// jitter, `retry-after` honoured up to 60 s. A server that asks for a longer wait
/// than `max_retry_after` is not retried: the error says so at once. A wait that would
/// pass the extraction's deadline ends it as `Error::Timeout` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first failure.
    pub max_retries: u32,
    /// The first wait.
    pub initial_delay: Duration,
    /// The longest computed wait.
    pub max_delay: Duration,
    /// Each wait is this many times the previous one.
    pub multiplier: f64,
    /// Random spread, as a fraction of the wait (0.25: ±25 %).
    pub jitter: f64,
    /// The longest `retry-after` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.25,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No transport retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let base = self.initial_delay.as_secs_f64() * self.multiplier.powi(retry as i32);
        let base = base.min(self.max_delay.as_secs_f64());
        let spread = base * self.jitter * (2.0 * unit_random() - 1.0);
        // Checked: a policy with huge delays or an infinite multiplier must not panic.
        Duration::try_from_secs_f64((base + spread).max(0.0)).unwrap_or(self.max_delay)
    }
}

/// What follows a failed exchange: one rule for extractions and text requests.
pub(crate) enum AfterFailure {
    /// Refused before sending (`Unsupported`): the request is invalid, for this reason.
    Invalid(String),
    /// Not worth retrying (or the retries are spent, or the provider asks for a longer
    /// wait than is honoured).
    GiveUp,
    /// Worth retrying, but the wait would pass the deadline.
    PastDeadline(Duration),
    /// Retry after this wait.
    Wait(Duration),
}

impl RetryPolicy {
    /// What to do after `error`, with `retries` retries made so far and the deadline.
    pub(crate) fn after(
        &self,
        error: &crate::chat::ProviderError,
        retries: u32,
        deadline: Option<std::time::Instant>,
    ) -> AfterFailure {
        if let crate::chat::ProviderError::Unsupported(reason) = error {
            return AfterFailure::Invalid(reason.clone());
        }
        let asked = error.retry_after();
        let retry = error.is_retryable()
            && retries < self.max_retries
            // A server that asks for a longer wait than we honour will not be ready
            // sooner: say so now rather than retry early.
            && asked.is_none_or(|asked| asked <= self.max_retry_after);
        if !retry {
            return AfterFailure::GiveUp;
        }
        let wait = self.delay(retries, asked);
        match deadline {
            Some(deadline)
                if std::time::Instant::now()
                    .checked_add(wait)
                    .is_none_or(|end| end >= deadline) =>
            {
                AfterFailure::PastDeadline(wait)
            }
            _ => AfterFailure::Wait(wait),
        }
    }
}

/// A number in [0, 1) good enough for jitter (no cryptographic use).
fn unit_random() -> f64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}
