//! Deeply nested derived types compile under the default recursion limit and extract,
//! validate and stream through real HTTP (the local fake provider) like shallow ones.
//!
//! The chain below is 40 structs deep, each holding the next: the derive's generated
//! impls (partials that must be `Send + Sync`, schemas, validation) used to be the first
//! thing to overflow the compiler's limits on such chains.

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use serde_json::{Value, json};

/// Each struct holds its level and the next struct; the last one holds only its level.
macro_rules! chain {
    ($last:ident) => {
        #[derive(Debug, Deserialize, Extract)]
        pub struct $last {
            #[garde(range(max = 100))]
            pub level: u32,
        }
    };
    ($head:ident $next:ident $($rest:ident)*) => {
        #[derive(Debug, Deserialize, Extract)]
        pub struct $head {
            #[garde(range(max = 100))]
            pub level: u32,
            pub next: $next,
        }
        chain!($next $($rest)*);
    };
}

chain!(
    L00 L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18 L19
    L20 L21 L22 L23 L24 L25 L26 L27 L28 L29 L30 L31 L32 L33 L34 L35 L36 L37 L38 L39
);

const DEPTH: u32 = 40;

/// The answer for the whole chain, with `deepest` as the last struct's level.
fn chain_json(deepest: u32) -> String {
    let mut value = json!({ "level": deepest });
    for level in (0..DEPTH - 1).rev() {
        value = json!({ "level": level, "next": value });
    }
    value.to_string()
}

fn deepest_level(top: &L00) -> u32 {
    top.next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next // L10
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next // L20
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next // L30
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next
        .next // L39
        .level
}

async fn client_for(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

#[tokio::test(flavor = "current_thread")]
async fn a_forty_level_chain_is_extracted_and_an_error_at_the_bottom_is_re_asked_by_its_path() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("L00", chain_json(500)).reply());
    server.push(ChatCompletion::tool_call("L00", chain_json(39)).reply());
    let client = client_for(&server).await;

    let top = client
        .extract::<L00>()
        .user("the chain")
        .await
        .expect("the second answer is valid");
    assert_eq!(deepest_level(&top), 39);

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one re-ask");
    let reask = requests[1].json().expect("JSON body")["messages"].to_string();
    let path = format!("{}level", "next.".repeat(DEPTH as usize - 1));
    assert!(reask.contains(&path), "the re-ask names {path}: {reask}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_forty_level_chain_streams_partials_down_to_the_last_level() {
    let server = FakeProvider::start().await;
    let text = chain_json(39);
    let (head, tail) = text.split_at(text.len() / 2);
    server.push(ChatCompletion::tool_call_fragments("L00", [head, tail]).sse_reply());
    let client = client_for(&server).await;

    let mut stream = Box::pin(client.extract::<L00>().user("the chain").partial());
    let mut partials = 0;
    let mut done = None;
    while let Some(update) = stream.next().await {
        match update.expect("a valid stream") {
            PartialUpdate::Done(completion) => done = Some(completion.value),
            _ => partials += 1,
        }
    }
    assert!(partials >= 2, "partials before the end, got {partials}");
    let top = done.expect("the stream ends with the value");
    assert_eq!(deepest_level(&top), 39);
}

#[test]
fn a_forty_level_chain_validates_with_the_wire_path_of_the_bottom_field() {
    let top: L00 = serde_json::from_str(&chain_json(101)).expect("deserializes");
    let errors = top
        .validate(&Context::new())
        .expect_err("101 is out of range");
    let path = format!("{}level", "next.".repeat(DEPTH as usize - 1));
    assert!(errors.to_string().starts_with(&path), "{errors}");
    let schema: Value = L00::json_schema(Dialect::JsonSchema).expect("renders");
    assert_eq!(schema["$defs"].as_object().map(|defs| defs.len()), Some(39));
}
