use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(partial = "Partial User")]
struct User {
    name: String,
}

fn main() {}
