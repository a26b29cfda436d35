use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[extract(description = "Full name")]
    #[extract(description = "Name as written")]
    name: String,
}

fn main() {}
