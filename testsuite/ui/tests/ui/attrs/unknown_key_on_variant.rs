use instructor::prelude::*;

#[derive(Deserialize, Extract)]
enum Kind {
    #[extract(descripton = "A defect")]
    Bug,
    Feature,
}

fn main() {}
