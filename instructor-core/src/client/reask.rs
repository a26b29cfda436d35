//! Re-ask messages: the failed answer and the errors, in the shape the mode expects.

use crate::chat::{ChatResponse, ContentPart, Message};
use std::sync::Arc;

/// The re-ask text: what the model is told when its answer failed.
pub type ReaskText = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The default re-ask text, given the errors (one per line, with field paths).
pub fn default_reask(errors: &str) -> String {
    format!(
        "Your previous answer was not valid. Fix these errors and answer again with the corrected value only:\n{errors}"
    )
}

/// Appends the failed answer and the re-ask: a tool message answering each call when
/// the answer called tools (every call needs an answer, or the API rejects the
/// history), a user message after the assistant's text otherwise.
pub(crate) fn append_reask(messages: &mut Vec<Message>, response: &ChatResponse, reask: &str) {
    // The reasoning goes back before what it led to (Anthropic rejects a tool result
    // whose call lost the thinking before it).
    let mut said = response.reasoning.clone();
    if response.tool_calls.is_empty() {
        said.push(ContentPart::text(response.text.clone().unwrap_or_default()));
        messages.push(Message::assistant(said));
        messages.push(Message::user(reask));
    } else {
        messages.push(Message {
            content: said,
            ..Message::assistant_tool_calls(response.tool_calls.clone())
        });
        for call in &response.tool_calls {
            messages.push(Message::tool_error(call.id.clone(), reask));
        }
    }
}
