//! Whole answers: `loop { send -> judge }` over the attempt engine.

use super::answer::read_answer;
use super::attempt::{Engine, Verdict};
use super::{Completion, Error};
use crate::extract::Extract;
use tracing::Instrument;

/// Runs the extraction; `keep_raw: false` when only the value is returned, so that
/// responses need not keep their raw body (unless a hook will see them). Its clock and
/// its span start at the first poll ([`Engine::start`]), and every poll is in the
/// span.
///
/// Not an `async fn`: an `async fn` keeps its arguments in its future beside the
/// locals they are moved into, and the engine is large; the block below uses it in
/// place.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would hold the engine twice"
)]
pub(super) fn run<T: Extract>(
    mut engine: Engine<T>,
    keep_raw: bool,
) -> impl Future<Output = Result<Completion<T>, Error>> + Send + 'static {
    async move {
        engine.start();
        engine.keep_raw = keep_raw || engine.hooks.is_active();
        let span = engine.span.clone();
        attempts(&mut engine).instrument(span).await
    }
}

/// The attempts of a whole extraction, until one is done or the extraction fails.
async fn attempts<T: Extract>(engine: &mut Engine<T>) -> Result<Completion<T>, Error> {
    loop {
        // The attempt's request, inline: a future of its own here would be one more
        // state to build and move per request.
        if let Err(error) = engine.begin_attempt() {
            return Err(engine.fail(error));
        }
        let mut response = match engine.complete().await {
            Ok(response) => response,
            Err(error) => return Err(engine.fail(error)),
        };
        engine.received(&mut response);
        let answer = read_answer::<T>(&engine.spec, &response);
        match engine.judge(response, answer).await {
            Verdict::Done(done) => return Ok(done),
            Verdict::Again(_) => continue,
            Verdict::Fail(error) => return Err(engine.fail(error)),
        }
    }
}
