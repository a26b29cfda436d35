// The derive against the runtime crate itself, without the `instructor` facade.
#[derive(serde::Deserialize, instructor_macros::Extract)]
#[extract(crate = "::instructor_core")]
struct User {
    name: String,
}

fn main() {
    use instructor_core::Extract;
    let schema = User::json_schema(instructor_core::Dialect::JsonSchema).unwrap();
    assert_eq!(schema["properties"]["name"]["type"], "string");
}
