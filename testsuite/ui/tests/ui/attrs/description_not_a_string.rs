use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(description = 5)]
struct User {
    name: String,
}

fn main() {}
