use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[extract(validate = 42)]
    name: String,
}

fn main() {}
