use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Node {
    label: String,
    children: Vec<Node>,
    next: Option<Box<Node>>,
}

#[derive(Deserialize, Extract)]
#[serde(tag = "op")]
enum Expr {
    Lit { value: f64 },
    Add { left: Box<Expr>, right: Box<Expr> },
    Neg { inner: Box<Expr> },
}

fn main() {
    let _ = Node::json_schema(Dialect::JsonSchema).unwrap();
    let _ = Expr::json_schema(Dialect::JsonSchema).unwrap();
}
