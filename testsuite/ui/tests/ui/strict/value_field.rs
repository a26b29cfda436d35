use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Event {
    payload: serde_json::Value,
}

fn main() {}
