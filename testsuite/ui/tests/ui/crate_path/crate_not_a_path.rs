use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(crate = "not a path")]
struct User {
    name: String,
}

fn main() {}
