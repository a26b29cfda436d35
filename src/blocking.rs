//! A blocking facade for programs without an async runtime (feature `blocking`).
//!
//! ```no_run
//! use instructor::prelude::*;
//!
//! #[derive(Debug, Deserialize, Extract)]
//! struct User { name: String, age: u8 }
//!
//! # fn client() -> instructor::Client { unimplemented!() }
//! let client = instructor::blocking::Client::new(client().with_model("gpt-4o-mini"))?;
//! let user: User = client.extract::<User>().user("Jason is 25").run()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::client::{Completion, Error, Hooks, PartialUpdate};
use crate::{Context, Extract};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// A client that blocks the calling thread; it owns a small single-threaded runtime.
#[derive(Debug, Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Client {
    /// Wraps an async client.
    pub fn new(inner: crate::Client) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Client {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// The async client inside.
    pub fn inner(&self) -> &crate::Client {
        &self.inner
    }

    /// Starts an extraction of a `T`.
    pub fn extract<T: Extract>(&self) -> Extraction<'_, T> {
        Extraction {
            inner: self.inner.extract::<T>(),
            runtime: &self.runtime,
        }
    }
}

/// A blocking extraction: the async builder's settings, then [`Extraction::run`].
#[must_use = "an extraction does nothing until run"]
pub struct Extraction<'c, T: Extract> {
    inner: crate::client::Extraction<T>,
    runtime: &'c tokio::runtime::Runtime,
}

macro_rules! forward {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$doc])*
        pub fn $name(self, $($arg: $ty),*) -> Self {
            Extraction { inner: self.inner.$name($($arg),*), runtime: self.runtime }
        }
    )*};
}

impl<'c, T: Extract> Extraction<'c, T> {
    forward! {
        /// The model.
        model(model: impl Into<String>);
        /// The mode.
        mode(mode: crate::chat::Mode);
        /// Adds a system message (text, or parts with cache breakpoints).
        system(content: impl Into<crate::media::Parts>);
        /// Adds a user message (text, an image, a document, or a tuple of those).
        user(content: impl Into<crate::media::Parts>);
        /// Adds an assistant message.
        assistant(content: impl Into<crate::media::Parts>);
        /// Sampling temperature.
        temperature(temperature: f32);
        /// Maximum tokens of each answer.
        max_tokens(max_tokens: u32);
        /// Seed, where supported.
        seed(seed: i64);
        /// Re-asks after an invalid answer.
        max_retries(max_retries: u32);
        /// A hard deadline across all attempts.
        timeout(timeout: Duration);
        /// Stops before an attempt once this many tokens are used.
        max_total_tokens(budget: u64);
        /// The context validators see.
        context(context: Context);
        /// Hooks for this extraction.
        hooks(hooks: Hooks);
    }

    /// Adds a whole history.
    pub fn messages(self, messages: impl IntoIterator<Item = crate::chat::Message>) -> Self {
        Extraction {
            inner: self.inner.messages(messages),
            runtime: self.runtime,
        }
    }

    /// Runs the extraction to its validated value.
    pub fn run(self) -> Result<T, Error> {
        self.runtime
            .block_on(std::future::IntoFuture::into_future(self.inner))
    }

    /// Runs the extraction; the value with the response and the ledger.
    pub fn with_completion(self) -> Result<Completion<T>, Error> {
        self.runtime.block_on(self.inner.with_completion())
    }

    /// The partial updates as an iterator (the last one is the validated value).
    pub fn partial(self) -> impl Iterator<Item = Result<PartialUpdate<T>, Error>> + 'c {
        let runtime = self.runtime;
        let mut stream = Box::pin(self.inner.partial());
        std::iter::from_fn(move || runtime.block_on(stream.next()))
    }

    /// Each list item as it completes.
    pub fn iter(self) -> impl Iterator<Item = Result<T, Error>> + 'c {
        let runtime = self.runtime;
        let mut stream = Box::pin(self.inner.iter());
        std::iter::from_fn(move || runtime.block_on(stream.next()))
    }
}
