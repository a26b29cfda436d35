//! The model calls validators make (LLM validators), gathered for the extraction they
//! judge: the engine puts a [`ValidationCalls`] in the context each attempt's validators
//! see, and afterwards moves what they recorded into the extraction's ledger (as
//! [`AttemptKind::Validation`]), its token total and its budget.

use super::error::{Attempt, AttemptKind, Ledger};
use crate::chat::Usage;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where a validator that calls a model records its calls, and what it may spend: the
/// extraction's deadline and what is left of its token budget. Found in the context
/// (`context.get::<ValidationCalls>()`) while an extraction runs its validators.
///
/// ```
/// use instructor_core::client::ValidationCalls;
/// use instructor_core::validate::Context;
///
/// // Outside an extraction there is none: a validator then calls without limits.
/// assert!(Context::new().get::<ValidationCalls>().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ValidationCalls {
    recorded: Arc<Mutex<Vec<Attempt>>>,
    attempt: u32,
    deadline: Option<Instant>,
    tokens_left: Option<u64>,
}

impl ValidationCalls {
    /// The calls of attempt `attempt`'s validators, within `deadline` and `tokens_left`.
    pub(crate) fn new(attempt: u32, deadline: Option<Instant>, tokens_left: Option<u64>) -> Self {
        ValidationCalls {
            recorded: Arc::default(),
            attempt,
            deadline,
            tokens_left,
        }
    }

    /// The attempt whose answer is being validated.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The time left before the extraction's deadline (`None`: no deadline).
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// What is left of the extraction's token budget (`None`: no budget).
    pub fn tokens_left(&self) -> Option<u64> {
        self.tokens_left
    }

    /// Records the calls of a validator's own extraction (its ledger), marked as
    /// validation calls of `validator` for the attempt being validated.
    pub fn record(&self, validator: &str, ledger: &Ledger) {
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        recorded.extend(ledger.attempts.iter().map(|call| Attempt {
            number: self.attempt,
            kind: AttemptKind::Validation {
                validator: validator.to_owned(),
            },
            ..call.clone()
        }));
    }

    /// Takes what was recorded, with the tokens it used.
    pub(crate) fn take(&self) -> (Vec<Attempt>, Usage) {
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        let calls = std::mem::take(&mut *recorded);
        let mut usage = Usage::default();
        for call in &calls {
            if let Some(used) = &call.usage {
                usage.add(used);
            }
        }
        (calls, usage)
    }
}
