use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(length(min = ))]
    name: String,
}

fn main() {}
