// A crate that re-exports instructor under another path.
mod my {
    pub use instructor as inst;
}

#[derive(serde::Deserialize, my::inst::Extract)]
#[extract(crate = "my::inst")]
struct User {
    name: String,
}

fn main() {
    use my::inst::Extract;
    let schema = User::json_schema(my::inst::Dialect::JsonSchema).unwrap();
    assert_eq!(schema["properties"]["name"]["type"], "string");
}
