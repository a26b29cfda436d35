use instructor::prelude::*;

fn text_schema(generator: &mut instructor::SchemaGenerator) -> instructor::Schema {
    generator.subschema_for::<String>()
}

// `schema_with` belongs on fields; a variant only takes `description` and `title`.
#[derive(Deserialize, Extract)]
enum Kind {
    #[extract(schema_with = text_schema)]
    Bug(String),
    Feature,
}

fn main() {}
