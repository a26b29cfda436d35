use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(crate = "::instructor")]
struct User {
    name: String,
}

fn main() {
    assert_eq!(User::name(), "User");
    let schema = User::json_schema(Dialect::JsonSchema).unwrap();
    assert_eq!(schema["properties"]["name"]["type"], "string");
}
