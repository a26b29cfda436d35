//! Field types and garde rules passed in through `macro_rules!` arguments (whose hygiene
//! is not the derive's) get their schema, validation and partial checks.

use instructor::prelude::*;
use instructor::stream::PartialStream;

macro_rules! record {
    ($name:ident { $(#[$rule:meta])* $field:ident: $ty:ty }) => {
        #[derive(Debug, Deserialize, Extract)]
        struct $name {
            $(#[$rule])*
            $field: $ty,
        }
    };
}

record!(Inner { #[garde(range(max = 10))] score: u8 });
record!(Outer { inner: Inner });
record!(Named { #[garde(length(min = 2))] name: String });

fn main() {
    let schema = Outer::json_schema(Dialect::JsonSchema).unwrap();
    assert_eq!(schema["$defs"]["Inner"]["properties"]["score"]["maximum"], 10);

    let outer: Outer = serde_json::from_str(r#"{"inner": {"score": 11}}"#).unwrap();
    let errors = outer.validate(&Context::new()).unwrap_err();
    assert!(errors.to_string().starts_with("inner.score"), "{errors}");

    let mut stream = PartialStream::<Named>::new();
    stream.feed(br#"{"name": "A", "#).unwrap();
    assert!(stream.validate_partial(&Context::new()).is_err());
}
