use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(crate = "nonexistent")]
struct User {
    name: String,
}

fn main() {}
