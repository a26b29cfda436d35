use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Signup {
    #[garde(length(min = 3, max = 32), ascii)]
    username: String,
    #[garde(length(chars, min = 1, max = 80))]
    display_name: String,
    #[garde(email)]
    email: String,
    #[garde(url)]
    homepage: Option<String>,
    #[garde(range(min = 13, max = 150))]
    age: u8,
    #[garde(range(min = 0.0, max = 1.0))]
    score: f64,
    #[garde(pattern(r"^[A-Z]{2}$"))]
    country: String,
    #[garde(alphanumeric, prefix("id"), suffix("x"), contains("_"))]
    handle: String,
    #[garde(length(min = 1, max = 5), inner(length(min = 1), ascii))]
    tags: Vec<String>,
    #[garde(dive)]
    address: Address,
    #[garde(skip)]
    note: String,
}

#[derive(Deserialize, Extract)]
struct Address {
    #[garde(length(min = 1))]
    city: String,
}

fn main() {
    let schema = Signup::json_schema(Dialect::JsonSchema).unwrap();
    assert_eq!(schema["properties"]["age"]["maximum"], 150);
    assert_eq!(schema["properties"]["username"]["minLength"], 3);
}
