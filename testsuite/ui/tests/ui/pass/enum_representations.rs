use instructor::prelude::*;

#[derive(Deserialize, Extract)]
struct Circle {
    radius: f64,
}

#[derive(Deserialize, Extract)]
#[serde(rename_all = "snake_case")]
enum UnitOnly {
    Bug,
    FeatureRequest,
}

#[derive(Deserialize, Extract)]
enum External {
    Unit,
    Newtype(Circle),
    Struct { side: f64 },
}

#[derive(Deserialize, Extract)]
#[serde(tag = "type")]
enum Internal {
    Unit,
    Newtype(Circle),
    Struct { side: f64 },
}

#[derive(Deserialize, Extract)]
#[serde(tag = "t", content = "c")]
enum Adjacent {
    Unit,
    Newtype(Circle),
    Struct { side: f64 },
}

#[derive(Deserialize, Extract)]
#[serde(untagged)]
enum Untagged {
    Number(f64),
    Circle(Circle),
    Struct { side: f64 },
}

#[derive(Deserialize, Extract)]
#[serde(tag = "type")]
enum WithOther {
    Known { value: u8 },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize, Extract)]
enum WithUntaggedVariant {
    Named { value: u8 },
    #[serde(untagged)]
    Raw(String),
}

/// Every representation, described and titled.
#[derive(Deserialize, Extract)]
enum Described {
    /// A unit variant.
    #[extract(title = "Nothing")]
    Nothing,
    #[extract(description = "Something", title = "Some")]
    Something { value: u8 },
}

fn main() {
    for dialect in [Dialect::JsonSchema, Dialect::AnthropicTool] {
        let _ = UnitOnly::json_schema(dialect).unwrap();
        let _ = External::json_schema(dialect).unwrap();
        let _ = Internal::json_schema(dialect).unwrap();
        let _ = Adjacent::json_schema(dialect).unwrap();
        let _ = Untagged::json_schema(dialect).unwrap();
        let _ = WithOther::json_schema(dialect).unwrap();
        let _ = WithUntaggedVariant::json_schema(dialect).unwrap();
        let _ = Described::json_schema(dialect).unwrap();
    }
}
