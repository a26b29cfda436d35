use instructor::prelude::*;
use std::collections::HashMap;

/// A support ticket.
#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "camelCase")]
struct Ticket {
    /// Why.
    reasoning: String,
    /// One-line summary.
    #[garde(length(min = 3, max = 80))]
    title: String,
    #[garde(range(min = 1, max = 5))]
    priority_level: u8,
    tags: Vec<String>,
    assignee: Option<User>,
    kind: Kind,
    shape: Shape,
    meta: HashMap<String, String>,
}

#[derive(Debug, Deserialize, Extract)]
struct User {
    #[garde(email)]
    email: String,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// A defect.
    Bug,
    FeatureRequest,
}

#[derive(Debug, Deserialize, Extract)]
#[serde(tag = "type")]
enum Shape {
    Circle { radius: f64 },
    Square { side: f64 },
}

#[derive(Debug, Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
}

#[derive(Debug, Deserialize, Extract)]
struct Node {
    children: Vec<Node>,
    next: Option<Box<Node>>,
}

#[test]
fn smoke() {
    let s = instructor::RootSchema::of::<Ticket>();
    println!("{s:#?}");
    let _ = instructor::RootSchema::of::<Page<User>>();
    let _ = instructor::RootSchema::of::<Node>();
    let p = PartialTicket::default();
    println!("{p:?}");
}
