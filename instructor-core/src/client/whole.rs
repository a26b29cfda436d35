//! Whole answers: `loop { send -> judge }` over the attempt engine.

use super::answer::read_answer;
use super::attempt::{Engine, Verdict};
use super::{Completion, Error};
use crate::extract::Extract;

/// Runs the extraction; `keep_raw: false` when only the value is returned, so that
/// responses need not keep their raw body (unless a hook will see them).
pub(super) async fn run<T: Extract>(
    mut engine: Engine<T>,
    keep_raw: bool,
) -> Result<Completion<T>, Error> {
    engine.keep_raw = keep_raw || engine.hooks.is_active();
    loop {
        let response = match send(&mut engine).await {
            Ok(response) => response,
            Err(error) => return Err(engine.fail(error)),
        };
        let answer = read_answer::<T>(&engine.spec, &response);
        match engine.judge(response, answer).await {
            Verdict::Done(done) => return Ok(done),
            Verdict::Again(_) => continue,
            Verdict::Fail(error) => return Err(engine.fail(error)),
        }
    }
}

async fn send<T>(engine: &mut Engine<T>) -> Result<crate::chat::ChatResponse, Error> {
    engine.begin_attempt()?;
    let response = engine.complete().await?;
    Ok(engine.received(response))
}
