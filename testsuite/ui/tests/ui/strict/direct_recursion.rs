use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Tree {
    label: String,
    children: Vec<Tree>,
}

fn main() {}
