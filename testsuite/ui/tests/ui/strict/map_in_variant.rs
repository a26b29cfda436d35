use instructor::prelude::*;
use std::collections::BTreeMap;

#[derive(Deserialize, Extract)]
#[extract(strict)]
#[serde(tag = "type")]
enum Event {
    Click { x: i32, y: i32 },
    Custom { fields: BTreeMap<String, String> },
}

fn main() {}
