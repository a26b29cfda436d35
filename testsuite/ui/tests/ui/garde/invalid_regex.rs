use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(pattern("[a-z"))]
    name: String,
}

fn main() {}
