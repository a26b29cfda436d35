use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(inner(length(min = 1)))]
    name: String,
}

fn main() {}
