use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct User {
    name: String,
}

/// One page of results.
#[derive(Deserialize, Extract)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

#[derive(Deserialize, Extract)]
struct Pair<A, B> {
    first: A,
    second: B,
}

fn main() {
    let schema = Page::<User>::json_schema(Dialect::JsonSchema).unwrap();
    assert!(schema.to_string().contains("\"name\""));
    // `Extract` itself needs every type argument to be `Extract`; the schema does not.
    let _ = instructor::RootSchema::of::<Pair<String, Page<u8>>>()
        .render(Dialect::JsonSchema)
        .unwrap();
    let _ = Pair::<User, Page<User>>::json_schema(Dialect::JsonSchema).unwrap();
    let _ = PartialPage::<User>::default();
}
