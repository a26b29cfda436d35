//! [`LlmValidator`]: a model judges whether a value satisfies a statement in words.

use crate::Context;
use crate::chat::Mode;
use crate::client::{Client, Error, ValidationCalls};
use crate::validate::{AsyncValidator, LlmCheck, Stop, ValidationErrors, ValidationFuture};
use serde::Serialize;
use std::sync::Arc;

pub use verdict::{PartialVerdict, Verdict};

mod verdict {
    // The derive's partial mirror carries the fields' docs; its generated accessors do
    // not.
    #![allow(missing_docs)]
    use crate::{Context, ValidationError};

    /// A model's verdict on a value (what an [`LlmValidator`](super::LlmValidator) asks for).
    #[derive(Debug, Clone, PartialEq, serde::Deserialize, instructor_macros::Extract)]
    #[extract(crate = "crate", validate = reason_when_invalid)]
    pub struct Verdict {
        /// Whether the value satisfies the statement.
        pub is_valid: bool,
        /// Why not, when it does not: what is wrong, said so that it can be fixed.
        pub reason: Option<String>,
        /// The value corrected so that it satisfies the statement, changing as little as
        /// possible, when it does not (and a correction was asked for); the same JSON
        /// type as the value.
        pub fixed_value: Option<serde_json::Value>,
    }

    fn reason_when_invalid(verdict: &Verdict, _: &Context) -> Result<(), ValidationError> {
        match (&verdict.is_valid, &verdict.reason) {
            (false, None) => Err(ValidationError::at(
                crate::WirePath::from(vec![crate::PathSegment::Key("reason".into())]),
                "say why the value does not satisfy the statement",
            )),
            _ => Ok(()),
        }
    }
}

/// A validator that asks a model whether a value satisfies `statement` (Python
/// instructor's `llm_validator`): for rules that are easier to say than to code
/// ("must not contain objectionable content", "the summary names every party").
///
/// It runs after the type's own rules (which are cheaper), at the same time as the
/// other async validators, within the extraction's deadline and what is left of its
/// token budget; its calls appear in the extraction's ledger as
/// [`AttemptKind::Validation`](crate::client::AttemptKind::Validation) and count toward
/// the budget. Its reason goes into the re-ask, at the path of what it validated (use
/// [`validate::field`](crate::validate::field) for one field). With
/// [`allow_fix`](Self::allow_fix), the model's corrected value replaces the original
/// instead of a re-ask (when it passes the type's rules). A failed call (the provider
/// down, its own retries spent) ends the extraction with `Error::Stopped`: asking the
/// extraction's model again would not help.
///
/// ```
/// use instructor_core::client::{Client, LlmValidator};
/// use instructor_macros::Extract;
/// use instructor_providers::openai::{OpenAi, OpenAiConfig};
/// use instructor_providers::testing::{FakeProvider, openai::ChatCompletion};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize, Extract)]
/// #[extract(crate = "instructor_core")]
/// struct Answer {
///     text: String,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = FakeProvider::start().await;
/// server.push(ChatCompletion::tool_call("Answer", r#"{"text": "Steal it."}"#).reply());
/// server.push(ChatCompletion::tool_call("Verdict",
///     r#"{"is_valid": false, "reason": "it encourages theft", "fixed_value": null}"#).reply());
/// server.push(ChatCompletion::tool_call("Answer", r#"{"text": "Ask the owner."}"#).reply());
/// server.push(ChatCompletion::tool_call("Verdict", r#"{"is_valid": true}"#).reply());
/// let client = Client::new(OpenAi::new(OpenAiConfig::new(server.base_url())))
///     .with_model("gpt-4o-mini");
/// let done = client
///     .extract::<Answer>()
///     .user("How do I get my neighbour's bike?")
///     .validator(LlmValidator::new("must not encourage anything illegal", &client))
///     .with_completion()
///     .await
///     .unwrap();
/// assert_eq!(done.value.text, "Ask the owner.");
/// assert_eq!(done.ledger.attempts.len(), 4); // two answers, two checks
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct LlmValidator {
    client: Client,
    statement: Arc<str>,
    allow_fix: bool,
}

impl LlmValidator {
    /// Checks values against `statement` with `client` (its provider and model; see
    /// [`model`](Self::model) for a cheaper one).
    pub fn new(statement: impl Into<String>, client: &Client) -> Self {
        LlmValidator {
            client: client.clone(),
            statement: Arc::from(statement.into()),
            allow_fix: false,
        }
    }

    /// Asks `model` instead of the client's (a cheaper one for a simple check).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.client = self.client.with_model(model);
        self
    }

    /// Lets the model's corrected value replace the original instead of a re-ask.
    pub fn allow_fix(mut self) -> Self {
        self.allow_fix = true;
        self
    }

    /// The statement values are checked against.
    pub fn statement(&self) -> &str {
        &self.statement
    }

    async fn check(
        &self,
        value: String,
        calls: Option<ValidationCalls>,
    ) -> Result<(), ValidationErrors> {
        let fix = if self.allow_fix {
            "If it does not, give `fixed_value`: the value corrected to satisfy the statement, \
             changing as little as possible, as the same JSON type."
        } else {
            "Leave `fixed_value` null."
        };
        let mut ask = self
            .client
            .extract::<Verdict>()
            .system(format!(
                "You are a careful validator. Decide whether the value satisfies the \
                 statement. When it does not, say why in `reason`, so that it can be fixed. {fix}"
            ))
            .user(format!(
                "Statement: {}\n\nValue (JSON):\n{value}",
                self.statement
            ))
            .max_retries(1);
        if let Some(calls) = &calls {
            if let Some(left) = calls.time_left() {
                ask = ask.timeout(left);
            }
            if let Some(left) = calls.tokens_left() {
                ask = ask.max_total_tokens(left);
            }
        }
        let result = ask.with_completion().await;
        if let Some(calls) = &calls {
            let ledger = match &result {
                Ok(done) => Some(&done.ledger),
                Err(error) => error.ledger(),
            };
            if let Some(ledger) = ledger {
                calls.record(&self.statement, ledger);
            }
        }
        let verdict = match result {
            Ok(done) => done.value,
            Err(error) => return Err(self.failed(&error)),
        };
        if verdict.is_valid {
            return Ok(());
        }
        let reason = verdict.reason.unwrap_or_else(|| "it does not".to_owned());
        let errors =
            ValidationErrors::from(format!("does not satisfy \"{}\": {reason}", self.statement));
        Err(match verdict.fixed_value.filter(|_| self.allow_fix) {
            Some(fixed) => errors.with_fix(fixed),
            None => errors,
        })
    }

    /// The validator of a check the type's rules asked for (derive `llm_validate`), on
    /// `judge`: the extraction's provider and model, unless the check names another.
    fn for_check(check: &LlmCheck, judge: &Client) -> Self {
        let client = match check.model {
            Some(model) => judge.clone().with_model(model),
            None => judge.clone(),
        };
        LlmValidator {
            client,
            statement: Arc::from(check.statement),
            allow_fix: check.allow_fix,
        }
    }

    /// The validator's own call failed: the extraction cannot be judged.
    fn failed(&self, error: &Error) -> ValidationErrors {
        Stop::new(format!(
            "the LLM validator \"{}\" could not check the answer: {error}",
            self.statement
        ))
        .into()
    }
}

impl<T: Serialize + Sync + ?Sized> AsyncValidator<T> for LlmValidator {
    fn validate<'a>(&'a self, value: &'a T, context: &'a Context) -> ValidationFuture<'a> {
        let value = serde_json::to_string_pretty(value);
        let calls = context.get::<ValidationCalls>().cloned();
        Box::pin(async move {
            match value {
                Ok(value) => self.check(value, calls).await,
                Err(error) => Err(Stop::new(format!(
                    "the value cannot be shown to the LLM validator: {error}"
                ))
                .into()),
            }
        })
    }
}

/// The client that judges an extraction's LLM checks: its provider and model, in its
/// mode (one tool, where the extraction asked for several).
pub(crate) fn judge(provider: &Arc<dyn crate::chat::Provider>, model: &str, mode: Mode) -> Client {
    let mode = match mode {
        Mode::ParallelTools => Mode::Tools,
        other => other,
    };
    Client::from_shared(provider.clone())
        .with_model(model)
        .with_mode(mode)
}

/// The async validators of `value` and the LLM checks its rules asked for, all at once
/// (the rules already passed): every error, each check's at the path of the value it
/// judged. Without a `judge`, the checks are not made.
pub(crate) fn check_async<'a, V: ?Sized>(
    value: &'a V,
    context: &'a Context,
    validators: &'a [Arc<dyn AsyncValidator<V>>],
    checks: Vec<LlmCheck>,
    judge: Option<&Client>,
) -> impl Future<Output = Result<(), ValidationErrors>> + Send + 'a {
    let mut running: Vec<ValidationFuture<'a>> = validators
        .iter()
        .map(|validator| validator.validate(value, context))
        .collect();
    if let Some(judge) = judge {
        let calls = context.get::<ValidationCalls>();
        for check in checks {
            let validator = LlmValidator::for_check(&check, judge);
            let calls = calls.cloned();
            running.push(Box::pin(async move {
                let found = match check.value {
                    Ok(shown) => validator.check(shown, calls).await,
                    Err(error) => Err(Stop::new(format!(
                        "the value cannot be shown to the LLM validator: {error}"
                    ))
                    .into()),
                };
                found.map_err(|found| {
                    let mut at_path = ValidationErrors::new();
                    at_path.extend_at(check.path.segments(), found);
                    at_path
                })
            }));
        }
    }
    async move {
        let mut errors = ValidationErrors::new();
        for found in futures_util::future::join_all(running).await {
            if let Err(found) = found {
                errors.extend_at(&[], found);
            }
        }
        errors.into_result()
    }
}
