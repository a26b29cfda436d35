use instructor::prelude::*;

fn text_schema(generator: &mut instructor::SchemaGenerator) -> instructor::Schema {
    generator.subschema_for::<String>()
}

#[derive(Deserialize, Extract)]
struct User {
    #[extract(schema_with = text_schema, schemars)]
    name: String,
}

fn main() {}
