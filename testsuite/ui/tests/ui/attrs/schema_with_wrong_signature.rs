use instructor::prelude::*;

fn text_schema() -> instructor::Schema {
    unimplemented!()
}

#[derive(Deserialize, Extract)]
struct User {
    #[extract(schema_with = text_schema)]
    name: String,
}

fn main() {}
