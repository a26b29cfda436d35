//! `#[extract(validate = ...)]` takes a closure as well as a path, on fields and on the
//! type; closures see the validation context; their errors are filed at the field, and
//! re-asked over real HTTP to the fake provider like any other.

use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};

struct Banned(Vec<&'static str>);

// A field validator takes a reference to the field as it is typed.
#[allow(clippy::ptr_arg)]
fn not_empty(text: &String, _: &Context) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        Err(ValidationError::new("must not be empty"))
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Extract)]
#[extract(validate = |event: &Event, _| {
    if event.end < event.start {
        Err(ValidationError::new("the end must not come before the start"))
    } else {
        Ok(())
    }
})]
struct Event {
    #[extract(validate = not_empty)]
    #[extract(validate = |title, ctx| match ctx.get::<Banned>() {
        Some(banned) if banned.0.iter().any(|word| title.contains(word)) => {
            Err(format!("must not contain a banned word ({title})"))
        }
        _ => Ok(()),
    })]
    title: String,
    #[extract(validate = "crate::positive")]
    start: u32,
    end: u32,
}

fn positive(value: &u32, _: &Context) -> Result<(), String> {
    if *value == 0 {
        Err("must be positive".to_owned())
    } else {
        Ok(())
    }
}

#[test]
fn closures_on_fields_and_on_the_type_see_the_context() {
    let context = Context::new().with(Banned(vec!["spam"]));
    let event = Event {
        title: "spam party".into(),
        start: 0,
        end: 0,
    };
    let errors = event.validate(&context).expect_err("three errors");
    let lines: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "title: must not contain a banned word (spam party)",
            "start: must be positive",
        ]
    );
    let backwards = Event {
        title: "launch".into(),
        start: 5,
        end: 2,
    };
    let errors = backwards
        .validate(&context)
        .expect_err("the type's closure");
    assert_eq!(errors.to_string(), "the end must not come before the start");
    assert!(
        Event {
            title: "launch".into(),
            start: 1,
            end: 2
        }
        .validate(&context)
        .is_ok()
    );
}

#[tokio::test]
async fn a_closure_s_error_is_re_asked_at_its_field() {
    let server = FakeProvider::start().await;
    server.push(
        ChatCompletion::tool_call("Event", r#"{"title": "spam sale", "start": 1, "end": 2}"#)
            .reply(),
    );
    server.push(
        ChatCompletion::tool_call("Event", r#"{"title": "summer sale", "start": 1, "end": 2}"#)
            .reply(),
    );
    let client =
        Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini");
    let event = client
        .extract::<Event>()
        .user("The summer sale runs from day 1 to day 2.")
        .context(Context::new().with(Banned(vec!["spam"])))
        .await
        .expect("fixed by the re-ask");
    assert_eq!(event.title, "summer sale");
    let reask = server.requests()[1]
        .json()
        .cloned()
        .expect("JSON")
        .to_string();
    assert!(
        reask.contains("title: must not contain a banned word (spam sale)"),
        "{reask}"
    );
}
