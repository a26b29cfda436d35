//! Where a schema node sits, in the names the model writes (`items[].meta`).
//!
//! A schema location stands for every element of a list and every value of a map, so
//! it is not a [`WirePath`](crate::WirePath) (which names one value of one answer);
//! its keys print the same way (`items[]["unit price"]`).

use std::fmt;

/// One step from a value to a part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// An object property, by its wire name.
    Field(String),
    /// Any element of an array.
    Item,
    /// Any value of a map.
    MapValue,
}

/// A path from the root of the rendered schema; displays as `items[].meta`, or
/// `<root>` when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SchemaPath(Vec<Step>);

impl SchemaPath {
    /// The path of property `name` of the value here.
    pub(super) fn field(&self, name: &str) -> SchemaPath {
        self.with(Step::Field(name.to_owned()))
    }

    /// The path of the elements of the array here.
    pub(super) fn item(&self) -> SchemaPath {
        self.with(Step::Item)
    }

    /// The path of the values of the map here.
    pub(super) fn map_value(&self) -> SchemaPath {
        self.with(Step::MapValue)
    }

    fn with(&self, step: Step) -> SchemaPath {
        let mut steps = self.0.clone();
        steps.push(step);
        SchemaPath(steps)
    }
}

impl fmt::Display for SchemaPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<root>");
        }
        for (index, step) in self.0.iter().enumerate() {
            match step {
                Step::Field(name) => crate::path::write_key(f, name, index == 0)?,
                Step::Item => f.write_str("[]")?,
                Step::MapValue if index == 0 => f.write_str("*")?,
                Step::MapValue => f.write_str(".*")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SchemaPath;

    #[test]
    fn displays_fields_items_and_map_values() {
        let root = SchemaPath::default();
        assert_eq!(root.to_string(), "<root>");
        assert_eq!(
            root.field("items").item().field("meta").to_string(),
            "items[].meta"
        );
        assert_eq!(root.item().field("name").to_string(), "[].name");
        assert_eq!(root.field("tags").map_value().to_string(), "tags.*");
        assert_eq!(root.map_value().to_string(), "*");
    }

    #[test]
    fn keys_print_as_answer_paths_print_them() {
        let root = SchemaPath::default();
        assert_eq!(
            root.field("items").item().field("unit price").to_string(),
            r#"items[]["unit price"]"#
        );
        assert_eq!(root.field("0").to_string(), r#"["0"]"#);
    }
}
