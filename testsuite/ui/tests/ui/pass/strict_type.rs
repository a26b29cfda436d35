use instructor::prelude::*;

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct Address {
    city: String,
    zip: Option<String>,
}

#[derive(Deserialize, Extract)]
#[extract(strict)]
#[serde(tag = "kind")]
enum Contact {
    Email { address: String },
    Phone { number: String },
}

#[derive(Deserialize, Extract)]
#[extract(strict)]
struct User<T> {
    name: String,
    tags: Vec<String>,
    address: Address,
    contacts: Vec<Contact>,
    extra: T,
}

fn main() {
    let _ = instructor::RootSchema::of::<User<u8>>()
        .render(Dialect::OpenAiStrict)
        .unwrap();
    let _ = User::<Address>::json_schema(Dialect::GeminiResponseSchema).unwrap();
}
