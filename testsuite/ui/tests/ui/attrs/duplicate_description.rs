use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(description = "A user", description = "A person")]
struct User {
    name: String,
}

fn main() {}
