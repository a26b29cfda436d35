use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[extract(schemars)]
    name: String,
}

fn main() {}
