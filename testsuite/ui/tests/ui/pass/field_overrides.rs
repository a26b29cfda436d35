use instructor::prelude::*;

fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(text.split(',').map(str::to_owned).collect())
}

fn text_schema(generator: &mut instructor::SchemaGenerator) -> instructor::Schema {
    generator.subschema_for::<String>()
}

fn not_empty(name: &String, _: &Context) -> Result<(), ValidationError> {
    if name.is_empty() { Err(ValidationError::new("empty")) } else { Ok(()) }
}

/// A user.
#[derive(Deserialize, Extract)]
#[extract(rename = "save_user", title = "User", example = "x", examples(1, 2), partial = "UserDraft")]
struct User {
    #[extract(description = "Full name", title = "Name", example = "Ada", validate = not_empty)]
    name: String,
    #[serde(deserialize_with = "comma_separated")]
    #[extract(schema_with = text_schema)]
    tags: Vec<String>,
}

fn main() {
    assert_eq!(User::name(), "save_user");
    let _ = UserDraft::default();
    let _ = User::json_schema(Dialect::JsonSchema).unwrap();
}
