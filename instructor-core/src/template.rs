//! Prompt templates: message text rendered with [minijinja] (Jinja2 syntax, as in
//! Python instructor) from the named variables of a [`Context`](crate::Context).
//!
//! Rules, chosen so that a template can never send something the caller did not mean:
//!
//! - Text is rendered only when the request has a context with variables; an ordinary
//!   prompt with literal braces (`{"a": 1}`, `{{not a template}}`) is sent as written.
//! - An undefined variable is an error before anything is sent
//!   ([`TemplateError`] names the message, the variable or the syntax error, and the
//!   line), not an empty string that quietly changes the prompt.
//! - Variables are inserted as data: braces inside a variable's value are not rendered
//!   again. Nothing is HTML-escaped. Trailing newlines are kept.
//!
//! Every text part of every message is a template (system, user, assistant and tool
//! messages alike); images and other parts are left as they are.
//!
//! ```
//! use instructor_core::chat::Message;
//! use instructor_core::template::render_messages;
//! use serde_json::json;
//!
//! let mut messages = vec![
//!     Message::system("Extract the people from the {{ kind }}."),
//!     Message::user("{% for line in lines %}- {{ line }}\n{% endfor %}"),
//! ];
//! let vars = json!({"kind": "meeting notes", "lines": ["Ada, 36", "Bo, {{ 41 }}"]});
//! render_messages(&mut messages, vars.as_object().unwrap()).unwrap();
//! assert_eq!(messages[0].text_content(), "Extract the people from the meeting notes.");
//! assert_eq!(messages[1].text_content(), "- Ada, 36\n- Bo, {{ 41 }}\n");
//!
//! let mut missing = vec![Message::user("Summarize {{ document }}")];
//! let error = render_messages(&mut missing, vars.as_object().unwrap()).unwrap_err();
//! assert!(error.to_string().contains("message 0"), "{error}");
//! assert!(error.to_string().contains("undefined"), "{error}");
//! ```

use crate::chat::{ContentPart, Message};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior};
use std::fmt;

/// A message text that could not be rendered: a syntax error or an undefined
/// variable, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template of message {message} (part {part}): {detail}")]
pub struct TemplateError {
    /// The index of the message in the request.
    pub message: usize,
    /// The index of the text part in that message.
    pub part: usize,
    /// What is wrong, with the line (from minijinja).
    pub detail: String,
}

/// Whether `text` holds template syntax at all (`{{`, `{%` or `{#`): text without it
/// renders to itself, so it is not handed to the engine.
fn has_syntax(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|pair| pair[0] == b'{' && matches!(pair[1], b'{' | b'%' | b'#'))
}

/// The environment every template renders in: strict about undefined variables, no
/// escaping, trailing newlines kept.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The default delimiters always build; were they refused, minijinja's default
    // syntax (which trims one trailing newline) would be the fallback.
    if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
        env.set_syntax(syntax);
    }
    env
}

/// Renders one text as a template with `vars`.
///
/// # Errors
///
/// The engine's error (syntax, undefined variable, failed filter) as text with its line.
pub fn render_text(
    text: &str,
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    if !has_syntax(text) {
        return Ok(text.to_owned());
    }
    render_with(&environment(), text, &Value::from(Serde(vars)))
}

fn render_with(env: &Environment<'_>, text: &str, vars: &Value) -> Result<String, String> {
    env.render_str(text, vars).map_err(|error| describe(&error))
}

/// minijinja's error as one line: its kind and detail, and the line of the template.
fn describe(error: &minijinja::Error) -> String {
    struct Line<'a>(&'a minijinja::Error);
    impl fmt::Display for Line<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.0.kind())?;
            if let Some(detail) = self.0.detail() {
                write!(f, ": {detail}")?;
            }
            if let Some(line) = self.0.line() {
                write!(f, " (line {line})")?;
            }
            Ok(())
        }
    }
    Line(error).to_string()
}

/// Renders every text part of `messages` in place with `vars` (see the module docs).
///
/// # Errors
///
/// The first text that cannot be rendered, by message and part; the messages before it
/// are rendered, so a caller that gets an error must not send them.
pub fn render_messages(
    messages: &mut [Message],
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), TemplateError> {
    let env = environment();
    let vars = Value::from(Serde(vars));
    for (index, message) in messages.iter_mut().enumerate() {
        for (part_index, part) in message.content.iter_mut().enumerate() {
            let ContentPart::Text { text } = part else {
                continue;
            };
            if !has_syntax(text) {
                continue;
            }
            *text = render_with(&env, text, &vars).map_err(|detail| TemplateError {
                message: index,
                part: part_index,
                detail,
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Image;
    use serde_json::json;

    fn vars(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        match value {
            serde_json::Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn text_without_template_syntax_is_untouched() {
        for text in [
            r#"{"name": "Ada"}"#,
            "a { b } c",
            "}} {{",
            "unbalanced {",
            "",
        ] {
            let rendered = render_text(text, &vars(json!({"x": 1})));
            if text == "}} {{" {
                // `{{` with nothing after it is template syntax, and an error.
                assert!(rendered.is_err());
            } else {
                assert_eq!(rendered.as_deref(), Ok(text));
            }
        }
    }

    #[test]
    fn variables_loops_and_filters_render() {
        let context = vars(json!({
            "name": "Ada",
            "items": [{"n": 1}, {"n": 2}],
            "data": {"k": "v"},
        }));
        assert_eq!(
            render_text("Hi {{ name | upper }}", &context).as_deref(),
            Ok("Hi ADA")
        );
        assert_eq!(
            render_text("{% for i in items %}{{ i.n }},{% endfor %}", &context).as_deref(),
            Ok("1,2,")
        );
        assert_eq!(
            render_text("{{ data | tojson }}", &context).as_deref(),
            Ok(r#"{"k": "v"}"#)
        );
        assert_eq!(
            render_text("{{ name }}\n", &context).as_deref(),
            Ok("Ada\n"),
            "the trailing newline is kept"
        );
        assert_eq!(
            render_text("{{ '<b>' }}", &context).as_deref(),
            Ok("<b>"),
            "nothing is escaped"
        );
    }

    #[test]
    fn undefined_variables_and_bad_syntax_are_errors_with_their_line() {
        let context = vars(json!({"name": "Ada"}));
        let error = render_text("line one\n{{ nme }}", &context).expect_err("undefined");
        assert!(error.contains("undefined"), "{error}");
        assert!(error.contains("line 2"), "{error}");
        let error = render_text("{% for x in %}", &context).expect_err("syntax");
        assert!(error.contains("syntax"), "{error}");
        let error =
            render_text("{{ name.first.letter }}", &context).expect_err("undefined attribute");
        assert!(error.contains("undefined"), "{error}");
    }

    #[test]
    fn values_are_data_not_templates() {
        let context = vars(json!({"doc": "{{ secret }} and {% if x %}"}));
        assert_eq!(
            render_text("Doc: {{ doc }}", &context).as_deref(),
            Ok("Doc: {{ secret }} and {% if x %}")
        );
    }

    #[test]
    fn messages_render_every_text_part_and_errors_name_the_message() {
        let mut messages = vec![
            Message::system("Be {{ tone }}."),
            Message::user("plain"),
            Message::assistant("{{ tone }} answer"),
        ];
        messages[1].content.push(ContentPart::Image(Image::url(
            "https://example.com/{{ tone }}.png",
        )));
        messages[1].content.push(ContentPart::Text {
            text: "and {{ tone }}".into(),
        });
        render_messages(&mut messages, &vars(json!({"tone": "brief"}))).expect("renders");
        assert_eq!(messages[0].text_content(), "Be brief.");
        assert_eq!(messages[1].text_content(), "plainand brief");
        assert_eq!(messages[2].text_content(), "brief answer");
        assert_eq!(
            messages[1].content[1],
            ContentPart::Image(Image::url("https://example.com/{{ tone }}.png")),
            "only text is a template"
        );

        let mut messages = vec![Message::system("ok"), Message::user("{{ missing }}")];
        let error = render_messages(&mut messages, &vars(json!({}))).expect_err("undefined");
        assert_eq!((error.message, error.part), (1, 0));
        assert!(
            error
                .to_string()
                .starts_with("template of message 1 (part 0): ")
        );
    }
}
