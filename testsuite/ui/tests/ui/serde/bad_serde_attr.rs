use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[serde(rename_all = "snake")]
struct User {
    name: String,
}

fn main() {}
