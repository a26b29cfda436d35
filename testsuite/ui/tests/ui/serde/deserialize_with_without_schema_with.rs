use instructor::prelude::*;

fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(text.split(',').map(str::to_owned).collect())
}

#[derive(Deserialize, Extract)]
struct Tags {
    #[serde(deserialize_with = "comma_separated")]
    tags: Vec<String>,
}

fn main() {}
