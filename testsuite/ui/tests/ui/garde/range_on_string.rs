use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    #[garde(range(min = 1, max = 150))]
    age: String,
}

fn main() {}
