use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Tree {
    label: String,
    children: Vec<Self>,
}

fn main() {}
