use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Address {
    city: String,
}

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct User {
    name: String,
    address: Address,
}

fn main() {}
