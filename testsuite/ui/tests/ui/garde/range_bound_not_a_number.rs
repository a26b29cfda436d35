use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(range(min = "one"))]
    age: u8,
}

fn main() {}
