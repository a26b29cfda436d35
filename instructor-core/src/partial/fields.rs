//! `Serialize` and `Deserialize` of generated partial structs, driven by a table.
//!
//! The derive does not run a second serde derive on every partial: it emits a static
//! table of field descriptors ([`FieldInfo`]) and two small `match`es (write field `i`,
//! read field `i`), and the loops below do the rest. A serialized partial is the JSON
//! object of its present fields under their wire names, plus `"$state"`: an object from
//! the wire name of each present field to `"streaming"` or `"complete"`. Reading a
//! partial back ignores `"$state"` (a state describes one stream, not the data).

use super::CompleteFields;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::{self, SerializeMap};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// The key of the field states in a serialized partial.
pub const STATE_KEY: &str = "$state";

/// One field of a generated partial struct, in declaration order.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// The name on the wire.
    pub wire: &'static str,
    /// Other names serde accepts for it.
    pub aliases: &'static [&'static str],
    /// `#[serde(flatten)]`: its members sit beside ours.
    pub flatten: bool,
}

impl FieldInfo {
    /// A plain field.
    pub const fn new(wire: &'static str, aliases: &'static [&'static str]) -> Self {
        FieldInfo {
            wire,
            aliases,
            flatten: false,
        }
    }

    /// A `#[serde(flatten)]` field.
    pub const fn flatten() -> Self {
        FieldInfo {
            wire: "",
            aliases: &[],
            flatten: true,
        }
    }

    fn answers_to(&self, key: &str) -> bool {
        !self.flatten && (self.wire == key || self.aliases.contains(&key))
    }
}

/// The field states gathered while a partial is written.
#[derive(Debug, Default)]
pub struct States {
    entries: Vec<(String, &'static str)>,
}

impl States {
    fn push(&mut self, wire: &str, complete: bool) {
        let state = if complete { "complete" } else { "streaming" };
        self.entries.push((wire.to_owned(), state));
    }
}

impl Serialize for States {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(k, v)| (k.as_str(), *v)))
    }
}

/// A generated partial struct, seen field by field. Implemented by the derive.
pub trait PartialFields: Default + Sized {
    /// The fields, in declaration order (the index of a field in this table is its
    /// index in [`PartialFields::complete_fields`]).
    const FIELDS: &'static [FieldInfo];

    /// Which fields are complete.
    fn complete_fields(&self) -> &CompleteFields;

    /// Writes field `index` into `map` when present; tells whether it was. A flattened
    /// field writes its own members (see [`write_flattened`]).
    fn write_field<M: SerializeMap>(
        &self,
        index: usize,
        map: &mut M,
        states: &mut States,
    ) -> Result<bool, M::Error>;

    /// Reads field `index` from `deserializer` (for a flattened field, from the object
    /// of the members no other field took).
    fn read_field<'de, D: Deserializer<'de>>(
        &mut self,
        index: usize,
        deserializer: D,
    ) -> Result<(), D::Error>;
}

/// Writes one present field of a partial.
pub fn write_field<M: SerializeMap, T: Serialize>(
    map: &mut M,
    wire: &'static str,
    value: &Option<T>,
) -> Result<bool, M::Error> {
    match value {
        Some(value) => map.serialize_entry(wire, value).map(|()| true),
        None => Ok(false),
    }
}

/// Writes the members of a flattened field beside the fields of its parent, and its
/// field states into the parent's.
pub fn write_flattened<M: SerializeMap, T: Serialize>(
    map: &mut M,
    value: &Option<T>,
    states: &mut States,
) -> Result<bool, M::Error> {
    let Some(value) = value else {
        return Ok(false);
    };
    let value = serde_json::to_value(value).map_err(ser::Error::custom)?;
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members {
                if key == STATE_KEY {
                    if let serde_json::Value::Object(inner) = member {
                        for (wire, state) in inner {
                            states.push(&wire, state.as_str() == Some("complete"));
                        }
                    }
                } else {
                    map.serialize_entry(&key, &member)?;
                }
            }
            Ok(true)
        }
        serde_json::Value::Null => Ok(false),
        other => Err(ser::Error::custom(format_args!(
            "a flattened field must be an object, found {other}"
        ))),
    }
}

/// `Serialize` of a generated partial struct.
pub fn serialize<P: PartialFields, S: Serializer>(
    partial: &P,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    let mut states = States::default();
    let complete = partial.complete_fields();
    for (index, field) in P::FIELDS.iter().enumerate() {
        let present = partial.write_field(index, &mut map, &mut states)?;
        if present && !field.flatten {
            states.push(field.wire, complete.get(index as u32));
        }
    }
    map.serialize_entry(STATE_KEY, &states)?;
    map.end()
}

/// `Deserialize` of a generated partial struct: fields by wire name or alias, unknown
/// keys and `"$state"` ignored, flattened fields read from the keys no field took.
pub fn deserialize<'de, P: PartialFields, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<P, D::Error> {
    deserializer.deserialize_map(PartialVisitor(PhantomData))
}

struct PartialVisitor<P>(PhantomData<P>);

impl<'de, P: PartialFields> Visitor<'de> for PartialVisitor<P> {
    type Value = P;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<P, A::Error> {
        let mut partial = P::default();
        let flattens = P::FIELDS.iter().any(|f| f.flatten);
        let mut rest = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match P::FIELDS.iter().position(|f| f.answers_to(&key)) {
                Some(index) => map.next_value_seed(FieldSeed {
                    partial: &mut partial,
                    index,
                })?,
                None if flattens && key != STATE_KEY => {
                    rest.insert(key, map.next_value()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (index, _) in P::FIELDS.iter().enumerate().filter(|(_, f)| f.flatten) {
            partial
                .read_field(index, serde_json::Value::Object(rest.clone()))
                .map_err(de::Error::custom)?;
        }
        Ok(partial)
    }
}

struct FieldSeed<'a, P> {
    partial: &'a mut P,
    index: usize,
}

impl<'de, P: PartialFields> DeserializeSeed<'de> for FieldSeed<'_, P> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.partial.read_field(self.index, deserializer)
    }
}
