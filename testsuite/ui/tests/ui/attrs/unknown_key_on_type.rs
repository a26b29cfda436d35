use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(descripton = "A user")]
struct User {
    name: String,
}

fn main() {}
