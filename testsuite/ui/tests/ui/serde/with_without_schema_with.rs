use instructor::prelude::*;

mod comma_separated {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        Ok(text.split(',').map(str::to_owned).collect())
    }
}

// `#[serde(with = "...")]` implies `deserialize_with`.
#[derive(Deserialize, Extract)]
struct Tags {
    #[serde(with = "comma_separated")]
    tags: Vec<String>,
}

fn main() {}
