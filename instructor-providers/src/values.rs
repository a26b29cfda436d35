//! Values every wire writes the same way in its request bodies.

use serde_json::value::RawValue;
use std::sync::OnceLock;

/// `value` as the shortest decimal that reads back as it (`0.7f32` is sent as `0.7`,
/// not `0.699999988079071`), so that the body says what the caller wrote.
pub(crate) fn decimal_f64(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// A tool call's arguments where the wire needs an object (Anthropic's `tool_use.input`,
/// Gemini's `functionCall.args`, Bedrock's `toolUse.input`): the text as written when it
/// is one, else `{}` (a failed call being re-asked: the error sent with it says what was
/// wrong).
pub(crate) fn object_arguments(arguments: &str) -> &RawValue {
    match serde_json::from_str::<&RawValue>(arguments) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => raw,
        _ => empty_object(),
    }
}

/// `{}`, made once.
fn empty_object() -> &'static RawValue {
    static EMPTY: OnceLock<Box<RawValue>> = OnceLock::new();
    EMPTY.get_or_init(|| RawValue::from_string("{}".to_owned()).expect("`{}` is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_as_written_and_arguments_stay_objects() {
        assert_eq!(decimal_f64(0.7).to_string(), "0.7");
        assert_eq!(decimal_f64(1.0), 1.0);
        assert_eq!(object_arguments(r#"{"a": 1}"#).get(), r#"{"a": 1}"#);
        assert_eq!(object_arguments("[1]").get(), "{}");
        assert_eq!(object_arguments("{\"a\": ").get(), "{}");
    }
}
