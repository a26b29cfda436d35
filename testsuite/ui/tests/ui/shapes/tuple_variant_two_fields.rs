use instructor::prelude::*;

#[derive(Deserialize, Extract)]
enum Shape {
    Circle { radius: f64 },
    Rect(f64, f64),
}

fn main() {}
