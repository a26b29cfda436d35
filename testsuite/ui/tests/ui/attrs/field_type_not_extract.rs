use instructor::prelude::*;

#[derive(Deserialize)]
struct Address {
    city: String,
}

#[derive(Deserialize, Extract)]
struct User {
    address: Address,
}

fn main() {}
