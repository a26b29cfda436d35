//! The context handed to validators and prompt templates.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Runtime data for validators: typed values (a database handle, the source text to
/// check citations against) and named JSON variables (the same ones templates see).
///
/// ```
/// use instructor_core::validate::Context;
///
/// struct Banned(Vec<String>);
/// let context = Context::new()
///     .with(Banned(vec!["spam".into()]))
///     .with_var("source", "the original document");
/// assert_eq!(context.get::<Banned>().map(|b| b.0.len()), Some(1));
/// assert_eq!(context.var("source").and_then(|v| v.as_str()), Some("the original document"));
/// ```
#[derive(Clone, Default)]
pub struct Context {
    typed: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    // Shared: the engine gives each attempt its own copy (with its `AttemptInfo`), and
    // the variables may hold a whole source document.
    vars: Arc<serde_json::Map<String, serde_json::Value>>,
    attempt: Option<AttemptInfo>,
    /// Where the type's rules note the LLM checks they ask for, while an extraction
    /// validates (none otherwise: the checks are then skipped).
    pub(crate) llm_checks: Option<super::PendingChecks>,
}

/// Which attempt of an extraction a validator is judging: validators can be lenient
/// early and strict on the last try, or the reverse.
///
/// ```
/// use instructor_core::validate::{AttemptInfo, Context};
///
/// let context = Context::new().for_attempt(AttemptInfo { number: 3, last: true });
/// assert_eq!(context.attempt().map(|a| (a.number, a.last)), Some((3, true)));
/// assert!(Context::new().attempt().is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The attempt, from 1.
    pub number: u32,
    /// Whether no re-ask follows this attempt if it fails validation.
    pub last: bool,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// Adds a typed value (one per type; a second replaces the first).
    pub fn with<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.insert(value);
        self
    }

    /// Inserts a typed value.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.typed.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The typed value of type `T`, if one was added.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.typed
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }

    /// Adds a named JSON variable.
    pub fn with_var(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        Arc::make_mut(&mut self.vars).insert(name.into(), value.into());
        self
    }

    /// A named JSON variable.
    pub fn var(&self, name: &str) -> Option<&serde_json::Value> {
        self.vars.get(name)
    }

    /// All named variables.
    pub fn vars(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.vars
    }

    /// The attempt being validated, when an extraction runs the validators (`None`
    /// when a caller validates a value directly).
    pub fn attempt(&self) -> Option<AttemptInfo> {
        self.attempt
    }

    /// Notes an LLM check the type's rules ask for (derive `llm_validate`); nothing
    /// outside an extraction, which has no model to ask.
    pub(crate) fn note_llm_check(&self, check: impl FnOnce() -> super::LlmCheck) {
        if let Some(pending) = &self.llm_checks {
            pending.push(check());
        }
    }

    /// This context for attempt `info` (a cheap copy: typed values and variables are
    /// shared).
    pub fn for_attempt(&self, info: AttemptInfo) -> Context {
        Context {
            attempt: Some(info),
            ..self.clone()
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Typed values may hold secrets (clients with keys): show only how many.
        f.debug_struct("Context")
            .field("typed_values", &self.typed.len())
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// What [`Extraction::context`](crate::client::Extraction::context) takes: a
/// [`Context`] (typed values and variables), or any `Serialize` value that serializes to
/// a map, whose entries become the named variables (`json!({"data": ...})`, a struct,
/// a `HashMap<String, _>`).
///
/// ```
/// use instructor_core::validate::{Context, IntoContext};
/// use serde_json::json;
///
/// let context = json!({"source": "the text"}).into_context().unwrap();
/// assert_eq!(context.var("source"), Some(&json!("the text")));
///
/// #[derive(serde::Serialize)]
/// struct Vars { language: &'static str }
/// let context = Vars { language: "fr" }.into_context().unwrap();
/// assert_eq!(context.var("language"), Some(&json!("fr")));
///
/// assert!(json!(["not", "a", "map"]).into_context().is_err());
/// ```
pub trait IntoContext {
    /// The context.
    ///
    /// # Errors
    ///
    /// Why the value cannot be a context (it does not serialize, or not to a map).
    fn into_context(self) -> Result<Context, String>;
}

impl IntoContext for Context {
    fn into_context(self) -> Result<Context, String> {
        Ok(self)
    }
}

impl<T: serde::Serialize> IntoContext for T {
    fn into_context(self) -> Result<Context, String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(vars)) => Ok(Context {
                typed: HashMap::new(),
                vars: Arc::new(vars),
                attempt: None,
                llm_checks: None,
            }),
            Ok(other) => Err(format!(
                "a context must serialize to a map of named variables, not to {}",
                match other {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "a boolean",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::Object(_) => "a map",
                }
            )),
            Err(error) => Err(format!("the context does not serialize: {error}")),
        }
    }
}
