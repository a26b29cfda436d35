use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(length(min = 1, max = 3))]
    age: u8,
}

fn main() {}
