//! Which definitions refer to which: the facts recursion rules need.

use crate::schema::{AdditionalProperties, RootSchema, Schema, SchemaKind};
use std::collections::{HashSet, VecDeque};

/// A node of the reference graph: the root, or a named definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Owner {
    Root,
    Def(String),
    /// The object that wraps a non-object root: nothing refers to it.
    Wrapper,
}

/// One reference from inside an owner to another owner.
#[derive(Debug, Clone)]
struct Edge {
    from: Owner,
    to: Owner,
    /// The reference sits below a property that is not required (counted from the
    /// top of `from`).
    optional: bool,
}

/// Every reference of a [`RootSchema`], between the root and its definitions.
#[derive(Debug)]
pub(super) struct RefGraph<'a> {
    root: &'a RootSchema,
    edges: Vec<Edge>,
}

impl<'a> RefGraph<'a> {
    pub(super) fn new(root: &'a RootSchema) -> Self {
        let mut graph = RefGraph {
            root,
            edges: Vec::new(),
        };
        graph.collect(&Owner::Root, &root.schema, false);
        for (name, schema) in &root.defs {
            graph.collect(&Owner::Def(name.clone()), schema, false);
        }
        graph
    }

    /// The owner a `Ref(name)` points to, if it exists.
    pub(super) fn resolve(&self, name: &str) -> Option<Owner> {
        if self.root.root_name.as_deref() == Some(name) {
            Some(Owner::Root)
        } else if self.root.defs.contains_key(name) {
            Some(Owner::Def(name.to_owned()))
        } else {
            None
        }
    }

    /// Whether `from` is `to` or leads to it through references (only references
    /// that are not below an optional property, with `required_only`).
    pub(super) fn reaches(&self, from: &Owner, to: &Owner, required_only: bool) -> bool {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([from.clone()]);
        while let Some(owner) = queue.pop_front() {
            if &owner == to {
                return true;
            }
            if !seen.insert(owner.clone()) {
                continue;
            }
            let next = self
                .edges
                .iter()
                .filter(|edge| edge.from == owner && !(required_only && edge.optional));
            queue.extend(next.map(|edge| edge.to.clone()));
        }
        false
    }

    /// Whether `owner` contains itself, directly or through other definitions.
    pub(super) fn is_recursive(&self, owner: &Owner) -> bool {
        self.edges
            .iter()
            .filter(|edge| &edge.from == owner)
            .any(|edge| self.reaches(&edge.to, owner, false))
    }

    fn collect(&mut self, from: &Owner, schema: &Schema, optional: bool) {
        match &schema.kind {
            SchemaKind::Ref(name) => {
                if let Some(to) = self.resolve(name) {
                    self.edges.push(Edge {
                        from: from.clone(),
                        to,
                        optional,
                    });
                }
            }
            SchemaKind::Array(array) => self.collect(from, &array.items, optional),
            SchemaKind::Object(object) => {
                for property in object.properties.values() {
                    self.collect(from, &property.schema, optional || !property.required);
                }
                if let AdditionalProperties::Schema(values) = &object.additional {
                    self.collect(from, values, optional);
                }
            }
            SchemaKind::OneOf(branches)
            | SchemaKind::AnyOf(branches)
            | SchemaKind::AllOf(branches) => {
                for branch in branches {
                    self.collect(from, branch, optional);
                }
            }
            SchemaKind::Nullable(inner) => self.collect(from, inner, optional),
            _ => {}
        }
    }
}
