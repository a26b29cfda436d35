use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(strict = "yes")]
struct User {
    name: String,
}

fn main() {}
