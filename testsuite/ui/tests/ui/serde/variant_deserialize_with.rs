use instructor::prelude::*;

fn parse<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    u32::deserialize(d)
}

#[derive(Deserialize, Extract)]
enum Amount {
    #[serde(deserialize_with = "parse")]
    Cents(u32),
}

fn main() {}
