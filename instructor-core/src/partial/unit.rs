//! Partials of enums whose variants are all units (`enum Status { Open, Closed }`),
//! driven by a table of names.
//!
//! Such a partial is complete-only and is a plain copy of the value, so the derive
//! does not run serde's derive on it: it emits the names once ([`UnitVariants`]) and
//! calls the functions below, which read and write the variant by its index, the way
//! serde's own derive would (a string, or a one-key map with `null` under formats that
//! write enums that way).

use serde::de::{self, EnumAccess, Unexpected, VariantAccess, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// The variants of a unit-only enum partial, in declaration order (a variant's index
/// is its discriminant).
#[derive(Debug, Clone, Copy)]
pub struct UnitVariants {
    /// The partial type's name, for serde's `serialize_unit_variant`.
    pub name: &'static str,
    /// The wire name of each variant.
    pub wire: &'static [&'static str],
    /// Other names serde accepts, with the index of their variant.
    pub aliases: &'static [(&'static str, u32)],
    /// The Rust name of each variant, for `Debug`.
    pub rust: &'static [&'static str],
}

impl UnitVariants {
    fn index_of(&self, name: &str) -> Option<u32> {
        self.wire
            .iter()
            .position(|wire| *wire == name)
            .map(|index| index as u32)
            .or_else(|| {
                self.aliases
                    .iter()
                    .find(|(alias, _)| *alias == name)
                    .map(|(_, index)| *index)
            })
    }

    /// The Rust name of variant `index`, for `Debug`.
    pub fn debug(&self, index: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rust.get(index as usize).copied().unwrap_or("?"))
    }
}

/// `Serialize` of a unit-only enum partial: variant `index` by its wire name.
pub fn serialize<S: Serializer>(
    variants: &UnitVariants,
    index: u32,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match variants.wire.get(index as usize) {
        Some(wire) => serializer.serialize_unit_variant(variants.name, index, wire),
        None => Err(serde::ser::Error::custom(format_args!(
            "no variant {index} in {}",
            variants.name
        ))),
    }
}

/// `Deserialize` of a unit-only enum partial: the index of the variant named (by wire
/// name or alias, or by index as serde also accepts).
pub fn deserialize<'de, D: Deserializer<'de>>(
    variants: &'static UnitVariants,
    deserializer: D,
) -> Result<u32, D::Error> {
    deserializer.deserialize_enum(variants.name, variants.wire, EnumVisitor(variants))
}

struct EnumVisitor(&'static UnitVariants);

impl<'de> Visitor<'de> for EnumVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}", self.0.name)
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<u32, E> {
        VariantVisitor(self.0).visit_str(name)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<u32, A::Error> {
        let (index, variant) = data.variant_seed(VariantVisitor(self.0))?;
        variant.unit_variant()?;
        Ok(index)
    }
}

/// The variant identifier: a name, an alias, or an index.
struct VariantVisitor(&'static UnitVariants);

impl<'de> de::DeserializeSeed<'de> for VariantVisitor {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for VariantVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<u32, E> {
        match u32::try_from(index) {
            Ok(index) if (index as usize) < self.0.wire.len() => Ok(index),
            _ => Err(E::invalid_value(
                Unexpected::Unsigned(index),
                &format!("variant index 0 <= i < {}", self.0.wire.len()).as_str(),
            )),
        }
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<u32, E> {
        self.0
            .index_of(name)
            .ok_or_else(|| E::unknown_variant(name, self.0.wire))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<u32, E> {
        match std::str::from_utf8(name) {
            Ok(name) => self.visit_str(name),
            Err(_) => Err(E::unknown_variant(
                &String::from_utf8_lossy(name),
                self.0.wire,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static STATUS: UnitVariants = UnitVariants {
        name: "PartialStatus",
        wire: &["open", "in_review"],
        aliases: &[("reviewing", 1)],
        rust: &["Open", "InReview"],
    };

    #[derive(Debug)]
    struct Status(u32);

    impl serde::Serialize for Status {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(&STATUS, self.0, serializer)
        }
    }

    impl<'de> serde::Deserialize<'de> for Status {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(&STATUS, deserializer).map(Status)
        }
    }

    #[test]
    fn writes_the_wire_name() {
        assert_eq!(
            serde_json::to_string(&Status(1)).expect("reads"),
            r#""in_review""#
        );
    }

    #[test]
    fn reads_wire_names_aliases_and_the_map_form() {
        let read = |json: &str| serde_json::from_str::<Status>(json).map(|s| s.0);
        assert_eq!(read(r#""open""#).expect("reads"), 0);
        assert_eq!(read(r#""reviewing""#).expect("reads"), 1);
        assert_eq!(read(r#"{"in_review": null}"#).expect("reads"), 1);
        assert_eq!(
            serde_json::from_value::<Status>(serde_json::json!("open"))
                .expect("reads")
                .0,
            0
        );
    }

    #[test]
    fn rejects_an_unknown_name_like_serde() {
        let error = serde_json::from_str::<Status>(r#""closed""#).expect_err("not a variant");
        assert!(
            error
                .to_string()
                .starts_with("unknown variant `closed`, expected `open` or `in_review`"),
            "{error}"
        );
    }
}
