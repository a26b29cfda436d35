//! LLM checks asked for by the derive (`#[extract(llm_validate = "...")]`): while an
//! extraction validates an answer, the type's rules note each check with the value it
//! judges and where that value sits; the extraction then asks its own model, after the
//! rules pass, with the other async validators.

use crate::path::WirePath;
use std::sync::{Arc, Mutex, PoisonError};

/// One check a type's rules asked for: the value at `path` must satisfy `statement`.
#[derive(Debug, Clone)]
pub struct LlmCheck {
    /// Where the judged value sits in the answer (wire names).
    pub path: WirePath,
    /// What the value must satisfy, in words.
    pub statement: &'static str,
    /// The model that judges (`None`: the extraction's).
    pub model: Option<&'static str>,
    /// Whether the model's corrected value may replace the original.
    pub allow_fix: bool,
    /// The value as indented JSON, or why it cannot be shown.
    pub value: Result<String, String>,
}

/// Where the rules note their LLM checks during one validation (shared by the copies
/// of the context the rules see).
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingChecks(Arc<Mutex<Vec<LlmCheck>>>);

impl PendingChecks {
    pub(crate) fn push(&self, check: LlmCheck) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(check);
    }

    /// Takes the checks noted so far.
    pub(crate) fn take(&self) -> Vec<LlmCheck> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
