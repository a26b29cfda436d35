use instructor::prelude::*;

#[derive(Deserialize, Extract)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
