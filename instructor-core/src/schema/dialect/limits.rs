//! How deeply objects nest, following references (a cycle counts once).

use super::path::SchemaPath;
use crate::schema::{AdditionalProperties, RootSchema, Schema, SchemaKind};
use std::collections::{HashMap, HashSet};

/// Measures object nesting in one schema.
pub(super) struct ObjectDepth<'a> {
    root: &'a RootSchema,
    memo: HashMap<String, usize>,
    visiting: HashSet<String>,
}

impl<'a> ObjectDepth<'a> {
    pub(super) fn new(root: &'a RootSchema) -> Self {
        ObjectDepth {
            root,
            memo: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    /// The path of the first object nested deeper than `limit` objects (the outermost
    /// object counting as one), if any.
    pub(super) fn deeper_than(&mut self, schema: &Schema, limit: usize) -> Option<SchemaPath> {
        if self.depth(schema) <= limit {
            return None;
        }
        self.locate(schema, SchemaPath::default(), 0, limit)
    }

    /// The largest number of objects nested inside each other below `schema`.
    fn depth(&mut self, schema: &Schema) -> usize {
        match &schema.kind {
            SchemaKind::Object(object) => {
                let mut deepest = 0;
                for property in object.properties.values() {
                    deepest = deepest.max(self.depth(&property.schema));
                }
                if let AdditionalProperties::Schema(values) = &object.additional {
                    deepest = deepest.max(self.depth(values));
                }
                deepest + 1
            }
            SchemaKind::Array(array) => self.depth(&array.items),
            SchemaKind::OneOf(branches)
            | SchemaKind::AnyOf(branches)
            | SchemaKind::AllOf(branches) => {
                branches.iter().map(|b| self.depth(b)).max().unwrap_or(0)
            }
            SchemaKind::Nullable(inner) => self.depth(inner),
            SchemaKind::Ref(name) => {
                if let Some(depth) = self.memo.get(name) {
                    return *depth;
                }
                let Some(target) = self.root.resolve(name) else {
                    return 0;
                };
                if !self.visiting.insert(name.clone()) {
                    return 0;
                }
                let depth = self.depth(target);
                self.visiting.remove(name);
                self.memo.insert(name.clone(), depth);
                depth
            }
            _ => 0,
        }
    }

    /// Walks down the deepest branch until the nesting passes `limit`.
    fn locate(
        &mut self,
        schema: &Schema,
        path: SchemaPath,
        level: usize,
        limit: usize,
    ) -> Option<SchemaPath> {
        let too_deep =
            |this: &mut Self, child: &Schema, level: usize| level + this.depth(child) > limit;
        match &schema.kind {
            SchemaKind::Object(object) => {
                let level = level + 1;
                if level > limit {
                    return Some(path);
                }
                for (name, property) in &object.properties {
                    if too_deep(self, &property.schema, level) {
                        return self.locate(&property.schema, path.field(name), level, limit);
                    }
                }
                match &object.additional {
                    AdditionalProperties::Schema(values) if too_deep(self, values, level) => {
                        self.locate(values, path.map_value(), level, limit)
                    }
                    _ => None,
                }
            }
            SchemaKind::Array(array) => self.locate(&array.items, path.item(), level, limit),
            SchemaKind::OneOf(branches)
            | SchemaKind::AnyOf(branches)
            | SchemaKind::AllOf(branches) => {
                let branch = branches.iter().find(|b| too_deep(self, b, level))?;
                self.locate(branch, path, level, limit)
            }
            SchemaKind::Nullable(inner) => self.locate(inner, path, level, limit),
            SchemaKind::Ref(name) => {
                let target = self.root.resolve(name)?;
                if !self.visiting.insert(name.clone()) {
                    return None;
                }
                let found = self.locate(target, path, level, limit);
                self.visiting.remove(name);
                found
            }
            _ => None,
        }
    }
}
