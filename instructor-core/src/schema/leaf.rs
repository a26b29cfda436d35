//! Schemas of the standard leaf types and containers, and of the feature-gated crates.

use super::{ArraySchema, Bound, ExtractSchema, Schema, SchemaGenerator, SchemaKind, StringRules};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, LinkedList, VecDeque};
use std::sync::Arc;

impl ExtractSchema for String {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::string()
    }
}

impl ExtractSchema for str {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::string()
    }
}

impl ExtractSchema for char {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::String(StringRules {
            min_length: Some(1),
            max_length: Some(1),
            ..StringRules::default()
        }))
    }
}

impl ExtractSchema for bool {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::Boolean)
    }
}

impl ExtractSchema for () {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::Null)
    }
}

// Bounds tell the model what a narrow type can hold (`u8`: 0 to 255). A bound that is
// the whole range of a 64- or 128-bit type says nothing a model could act on (no answer
// comes near 2^63) and costs tokens in every request, so those types have none, and
// unsigned ones only their minimum; serde still rejects what does not fit.
macro_rules! signed {
    ($($t:ty => $bounded:expr),*) => {$(
        impl ExtractSchema for $t {
            fn schema(_: &mut SchemaGenerator) -> Schema {
                if $bounded {
                    Schema::integer(Some(Bound::Int(<$t>::MIN as i128)), Some(Bound::Int(<$t>::MAX as i128)))
                } else {
                    Schema::integer(None, None)
                }
            }
        }
    )*};
}
signed!(i8 => true, i16 => true, i32 => true, i64 => false, i128 => false, isize => false);

macro_rules! unsigned {
    ($($t:ty => $min:expr, $max:expr);* $(;)?) => {$(
        impl ExtractSchema for $t {
            fn schema(_: &mut SchemaGenerator) -> Schema {
                let maximum: Option<u128> = $max;
                Schema::integer(Some(Bound::Int($min)), maximum.map(Bound::UInt))
            }
        }
    )*};
}
unsigned!(
    u8 => 0, Some(u8::MAX.into());
    u16 => 0, Some(u16::MAX.into());
    u32 => 0, Some(u32::MAX.into());
    u64 => 0, None;
    u128 => 0, None;
    usize => 0, None;
    std::num::NonZeroU8 => 1, Some(u8::MAX.into());
    std::num::NonZeroU16 => 1, Some(u16::MAX.into());
    std::num::NonZeroU32 => 1, Some(u32::MAX.into());
    std::num::NonZeroU64 => 1, None;
    std::num::NonZeroUsize => 1, None;
);

impl ExtractSchema for f32 {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        // serde_json rejects finite JSON numbers beyond f32's range.
        Schema::new(SchemaKind::Number(super::NumberRules {
            minimum: Some(Bound::Float(f64::from(f32::MIN))),
            maximum: Some(Bound::Float(f64::from(f32::MAX))),
        }))
    }
}

impl ExtractSchema for f64 {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::number()
    }
}

impl<T: ExtractSchema> ExtractSchema for Option<T> {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::nullable(generator.subschema_for::<T>())
    }
    const MAY_BE_MISSING: bool = true;
}

macro_rules! wrapper {
    ($($w:ident),*) => {$(
        impl<T: ExtractSchema + ?Sized> ExtractSchema for $w<T> {
            fn schema(generator: &mut SchemaGenerator) -> Schema {
                generator.subschema_for::<T>()
            }
            const MAY_BE_MISSING: bool = T::MAY_BE_MISSING;
        }
    )*};
}
wrapper!(Box, Arc);

macro_rules! list {
    ($($l:ident => $unique:expr),*) => {$(
        impl<T: ExtractSchema> ExtractSchema for $l<T> {
            fn schema(generator: &mut SchemaGenerator) -> Schema {
                let mut schema = Schema::array(generator.subschema_for::<T>());
                if let SchemaKind::Array(array) = &mut schema.kind {
                    array.unique_items = $unique;
                }
                schema
            }
        }
    )*};
}
list!(Vec => false, VecDeque => false, LinkedList => false, BTreeSet => true);

impl<T: ExtractSchema, S> ExtractSchema for HashSet<T, S> {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Schema::array(generator.subschema_for::<T>());
        if let SchemaKind::Array(array) = &mut schema.kind {
            array.unique_items = true;
        }
        schema
    }
}

impl<T: ExtractSchema> ExtractSchema for [T] {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::array(generator.subschema_for::<T>())
    }
}

impl<T: ExtractSchema, const N: usize> ExtractSchema for [T; N] {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::Array(ArraySchema {
            items: Box::new(generator.subschema_for::<T>()),
            min_items: Some(N as u64),
            max_items: Some(N as u64),
            unique_items: false,
        }))
    }
}

/// A type that serde_json reads from a JSON object key.
///
/// Only string keys are supported: a map's keys become property names the model
/// writes, and a number-like key would be a string the model must quote anyway.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a map key in an extracted type: map keys must be strings",
    label = "use `String` keys (or a `Vec` of key/value structs)"
)]
pub trait MapKey {}
impl MapKey for String {}
impl MapKey for Box<str> {}
impl MapKey for Arc<str> {}

impl<K: MapKey, V: ExtractSchema, S> ExtractSchema for HashMap<K, V, S> {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::map(generator.subschema_for::<V>())
    }
}

impl<K: MapKey, V: ExtractSchema> ExtractSchema for BTreeMap<K, V> {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::map(generator.subschema_for::<V>())
    }
}

impl<K: MapKey, V: ExtractSchema, S> ExtractSchema for indexmap::IndexMap<K, V, S> {
    fn schema(generator: &mut SchemaGenerator) -> Schema {
        Schema::map(generator.subschema_for::<V>())
    }
}

impl ExtractSchema for serde_json::Value {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::new(SchemaKind::Any)
    }
}

impl ExtractSchema for serde_json::Map<String, serde_json::Value> {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::map(Schema::new(SchemaKind::Any))
    }
}

#[cfg(any(feature = "chrono", feature = "time", feature = "rust_decimal"))]
/// A string matched by `pattern` (for formats JSON Schema has no name for).
fn string_pattern(pattern: &str, description: &str) -> Schema {
    Schema::new(SchemaKind::String(StringRules {
        pattern: Some(pattern.to_owned()),
        ..StringRules::default()
    }))
    .with_description(description)
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::*;

    impl<Tz: chrono::TimeZone> ExtractSchema for chrono::DateTime<Tz> {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            Schema::string_format("date-time")
        }
    }

    impl ExtractSchema for chrono::NaiveDate {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            Schema::string_format("date")
        }
    }

    impl ExtractSchema for chrono::NaiveTime {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            string_pattern(
                r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$",
                "time of day, HH:MM:SS",
            )
        }
    }

    impl ExtractSchema for chrono::NaiveDateTime {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            string_pattern(
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$",
                "date and time without offset, YYYY-MM-DDTHH:MM:SS",
            )
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use super::*;

    // Without `#[serde(with = ...)]`, the `time` crate's human-readable serde format is
    // not RFC 3339; these patterns describe the format it actually accepts.
    impl ExtractSchema for time::Date {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            Schema::string_format("date")
        }
    }

    impl ExtractSchema for time::Time {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            string_pattern(
                r"^[0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}$",
                "time of day, H:MM:SS.fraction",
            )
        }
    }

    impl ExtractSchema for time::PrimitiveDateTime {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            string_pattern(
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}$",
                "date and time without offset, YYYY-MM-DD H:MM:SS.fraction",
            )
        }
    }

    impl ExtractSchema for time::OffsetDateTime {
        fn schema(_: &mut SchemaGenerator) -> Schema {
            string_pattern(
                r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9} [+-][0-9]{2}:[0-9]{2}:[0-9]{2}$",
                "date and time with offset, YYYY-MM-DD H:MM:SS.fraction +HH:MM:SS",
            )
        }
    }
}

#[cfg(feature = "uuid")]
impl ExtractSchema for uuid::Uuid {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::string_format("uuid")
    }
}

#[cfg(feature = "url")]
impl ExtractSchema for url::Url {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        Schema::string_format("uri")
    }
}

#[cfg(feature = "rust_decimal")]
impl ExtractSchema for rust_decimal::Decimal {
    fn schema(_: &mut SchemaGenerator) -> Schema {
        // rust_decimal's serde accepts a number or a decimal string (with sign, `_`
        // separators and scientific notation).
        Schema::new(SchemaKind::AnyOf(vec![
            Schema::number(),
            string_pattern(
                r"^[+-]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9][0-9_]*)([eE][+-]?[0-9]+)?$",
                "",
            ),
        ]))
    }
}
