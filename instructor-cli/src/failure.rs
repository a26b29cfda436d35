//! What went wrong, as a message and an exit code. Each kind of failure has its own
//! code, so that scripts can tell a missing key from a model that never gave a valid
//! answer; the codes are listed in `--help` and in the README.

use instructor::Error;
use instructor::chat::ProviderError;
use std::fmt;
use std::process::ExitCode;

/// The kinds of failure, each with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything not listed below (1).
    Other,
    /// Bad arguments, a bad schema, a mode the provider cannot serve (2, as clap's own
    /// usage errors).
    Usage,
    /// The provider's API key (or other configuration) is missing from the environment (3).
    MissingKey,
    /// The provider failed: an HTTP error status (401, 429, 500...), the network, the
    /// deadline (4).
    Provider,
    /// The model gave no valid answer: still invalid for the schema after every retry,
    /// unreadable, refused, cut at the token limit (5).
    Invalid,
    /// A file or a stream could not be read or written (6).
    Io,
    /// Many inputs: some have no value (their lines say why); the others were written
    /// (7).
    SomeFailed,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::MissingKey => 3,
            Kind::Provider => 4,
            Kind::Invalid => 5,
            Kind::Io => 6,
            Kind::SomeFailed => 7,
        }
    }
}

/// The exit codes as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success: the value was written
  1  any other failure
  2  usage: bad arguments, an invalid JSON Schema, a mode the provider cannot serve
  3  configuration: the provider's API key (or credentials) missing from the environment
  4  provider: an HTTP error status (401, 429, 500...), the network, the deadline
  5  no valid answer: still invalid for the schema after every retry, unreadable,
     refused, or cut at the token limit
  6  I/O: a file or stdin/stdout could not be read or written
  7  many inputs (--jsonl, batch results): some inputs have no value (their lines say why); the
     others were written";

/// A failure of the command: what to print and the code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(Kind::Usage, message)
    }

    /// An I/O error about `what` (a path, "stdin").
    pub fn io(what: &str, error: &std::io::Error) -> Self {
        Failure::new(Kind::Io, format!("{what}: {error}"))
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let kind = match &error {
            Error::UnsupportedMode { .. } | Error::InvalidRequest { .. } => Kind::Usage,
            Error::Provider { error, .. } => match error.as_ref() {
                // Nothing was sent: the request cannot be made for this provider.
                ProviderError::Unsupported(_) => Kind::Usage,
                _ => Kind::Provider,
            },
            Error::Timeout { .. } | Error::BudgetExhausted { .. } => Kind::Provider,
            Error::Truncated { .. }
            | Error::Refusal { .. }
            | Error::ContentFilter { .. }
            | Error::Parse { .. }
            | Error::Validation { .. }
            | Error::Item { .. }
            | Error::Stopped { .. } => Kind::Invalid,
            _ => Kind::Other,
        };
        let mut message = match &error {
            // Every error on its own line, at its path.
            Error::Validation { errors, .. } => {
                let mut text =
                    "the answer is still invalid for the schema after every retry:".to_owned();
                for found in errors.errors() {
                    let path = found.path_string();
                    let path = if path.is_empty() { "(root)" } else { &path };
                    text.push_str(&format!("\n  {path}: {}", found.message));
                }
                text
            }
            _ => error.to_string(),
        };
        let raw = match &error {
            Error::Validation { raw_output, .. } | Error::Parse { raw_output, .. } => {
                raw_output.as_deref()
            }
            _ => None,
        };
        if let Some(raw) = raw {
            message.push_str("\nthe last answer was: ");
            message.push_str(raw);
        }
        Failure::new(kind, message)
    }
}
