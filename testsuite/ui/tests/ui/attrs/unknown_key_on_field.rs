use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[extract(descripton = "Full name")]
    name: String,
}

fn main() {}
