use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Point(f64, f64);

fn main() {}
