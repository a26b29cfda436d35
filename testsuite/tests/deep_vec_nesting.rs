//! Derived types nested 60 levels deep through `Vec` fields compile under the default
//! recursion limit, are `Send + Sync` (a spawned task extracts and streams them) and
//! are re-asked by the path of an error at the bottom.
//!
//! Proving `Send` of such a chain used to cost the compiler about five steps per level
//! for the type and as many for its partial, so 27 levels overflowed its limit. The
//! derive now states both traits per type, checked field by field. 60 levels is close
//! to what serde's own derive and `serde_json::from_str` reach before the compiler's
//! instantiation limit (about 64 through `Vec`), which neither crate can lift.
//!
//! Release builds also prove `Unpin` structurally (debug builds never ask), and the
//! same chain overflowed there at about 32 levels until the derive stated `Unpin` the
//! same way; `.ci/run` runs this file once more with `--release` for that reason.

use futures_util::StreamExt;
use instructor::client::PartialUpdate;
use instructor::prelude::*;
use instructor::providers::openai::{OpenAi, OpenAiConfig};
use instructor::providers::testing::{FakeProvider, openai::ChatCompletion};
use serde_json::json;

/// Each struct holds its level and a list of the next struct.
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
            pub next: Vec<$next>,
        }
        chain!($next $($rest)*);
    };
}

chain!(
    V00 V01 V02 V03 V04 V05 V06 V07 V08 V09 V10 V11 V12 V13 V14 V15 V16 V17 V18 V19
    V20 V21 V22 V23 V24 V25 V26 V27 V28 V29 V30 V31 V32 V33 V34 V35 V36 V37 V38 V39
    V40 V41 V42 V43 V44 V45 V46 V47 V48 V49 V50 V51 V52 V53 V54 V55 V56 V57 V58 V59
);

const DEPTH: usize = 60;

/// The answer for the whole chain (one element per list), with `deepest` as the last
/// struct's level.
fn chain_json(deepest: u32) -> String {
    let mut value = json!({ "level": deepest });
    for level in (0..DEPTH as u32 - 1).rev() {
        value = json!({ "level": level, "next": [value] });
    }
    value.to_string()
}

fn client_for(server: &FakeProvider) -> Client {
    Client::new(OpenAi::new(OpenAiConfig::new(server.base_url()))).with_model("gpt-4o-mini")
}

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn the_chain_and_its_partial_are_send_and_sync() {
    assert_send_sync::<V00>();
    assert_send_sync::<Partial<V00>>();
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawned_task_extracts_the_chain_and_an_error_at_the_bottom_is_re_asked_by_its_path() {
    let server = FakeProvider::start().await;
    server.push(ChatCompletion::tool_call("V00", chain_json(500)).reply());
    server.push(ChatCompletion::tool_call("V00", chain_json(59)).reply());
    let client = client_for(&server);

    let task = tokio::spawn(client.extract::<V00>().user("the chain").send());
    let top = task
        .await
        .expect("the task ran")
        .expect("the second answer is valid");
    assert!(format!("{top:?}").contains("level: 59 }"), "{top:?}");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one re-ask");
    let reask = requests[1].json().expect("JSON body")["messages"].to_string();
    let path = format!("{}level", "next[0].".repeat(DEPTH - 1));
    assert!(reask.contains(&path), "the re-ask names {path}: {reask}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawned_task_streams_partials_of_the_chain_down_to_the_last_level() {
    let server = FakeProvider::start().await;
    let text = chain_json(59);
    let (head, tail) = text.split_at(text.len() / 2);
    server.push(ChatCompletion::tool_call_fragments("V00", [head, tail]).sse_reply());
    let client = client_for(&server);

    let mut stream = client.extract::<V00>().user("the chain").partial();
    let task = tokio::spawn(async move {
        let mut partials = Vec::new();
        while let Some(update) = stream.next().await {
            match update.expect("a valid stream") {
                PartialUpdate::Done(completion) => return (partials, completion.value),
                PartialUpdate::Partial(partial) => partials.push(partial),
                other => panic!("no restart expected: {other:?}"),
            }
        }
        panic!("the stream ended without a value");
    });
    let (partials, top) = task.await.expect("the task ran");
    assert!(
        partials.len() >= 2,
        "partials before the end, got {}",
        partials.len()
    );
    assert!(format!("{top:?}").contains("level: 59 }"), "{top:?}");
    let first = format!("{:?}", partials[0]);
    assert!(
        !first.contains("level: Some(59)"),
        "the first half does not reach the bottom: {first}"
    );
}
