use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(length(graphemes, max = 10))]
    name: String,
}

fn main() {}
