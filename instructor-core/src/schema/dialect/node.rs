//! What the renderer carries while it walks: where it is, and the node it is writing.

use super::notes::Notes;
use super::path::SchemaPath;
use super::policy::{Keyword, Policy};
use super::refs::Owner;
use crate::schema::Schema;
use serde_json::{Map, Value};

/// Where the renderer is: the definition being written, the wire path, and whether a
/// property that is not required was crossed since the top of that definition.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub owner: Owner,
    pub path: SchemaPath,
    pub optional: bool,
}

impl Place {
    pub(super) fn root() -> Self {
        Place {
            owner: Owner::Root,
            path: SchemaPath::default(),
            optional: false,
        }
    }

    pub(super) fn top_of(owner: Owner, path: SchemaPath) -> Self {
        Place {
            owner,
            path,
            optional: false,
        }
    }

    pub(super) fn field(&self, name: &str, required: bool) -> Self {
        Place {
            owner: self.owner.clone(),
            path: self.path.field(name),
            optional: self.optional || !required,
        }
    }

    pub(super) fn item(&self) -> Self {
        Place {
            path: self.path.item(),
            ..self.clone()
        }
    }

    pub(super) fn map_value(&self) -> Self {
        Place {
            path: self.path.map_value(),
            ..self.clone()
        }
    }
}

/// A rendered node before its annotations are settled: constraints a dialect cannot
/// express collect in `notes` and end up in the description.
#[derive(Debug, Default)]
pub(super) struct Node {
    title: Option<String>,
    description: Option<String>,
    examples: Vec<Value>,
    default: Option<Value>,
    pub notes: Notes,
    pub body: Map<String, Value>,
}

impl Node {
    pub(super) fn with(key: &str, value: Value) -> Self {
        let mut node = Node::default();
        node.body.insert(key.into(), value);
        node
    }

    /// Lays the annotations of `outer` over this node's own: an outer description
    /// comes first, the node's own (a definition's) after it.
    pub(super) fn annotate(&mut self, outer: &Schema) {
        self.description = match (outer.description.clone(), self.description.take()) {
            (Some(outer), Some(inner)) if outer != inner => Some(format!("{outer}\n\n{inner}")),
            (outer, inner) => outer.or(inner),
        };
        if outer.title.is_some() {
            self.title.clone_from(&outer.title);
        }
        if !outer.examples.is_empty() {
            self.examples.clone_from(&outer.examples);
        }
        if outer.default.is_some() {
            self.default.clone_from(&outer.default);
        }
    }

    pub(super) fn finish(mut self, policy: &Policy) -> Map<String, Value> {
        let mut out = Map::new();
        if policy.keeps(Keyword::Title)
            && let Some(title) = self.title
        {
            out.insert("title".into(), title.into());
        }
        let examples = std::mem::take(&mut self.examples);
        let keep_examples = policy.keeps(Keyword::Examples);
        if !keep_examples {
            self.notes.examples(&examples);
        }
        let default = self.default.take();
        let keep_default = policy.keeps(Keyword::DefaultValue);
        if let (false, Some(default)) = (keep_default, &default) {
            self.notes.default_value(default);
        }
        if let Some(description) = self.notes.append_to(self.description) {
            out.insert("description".into(), description.into());
        }
        out.extend(self.body);
        if keep_examples && !examples.is_empty() {
            out.insert("examples".into(), examples.into());
        }
        if let (true, Some(default)) = (keep_default, default) {
            out.insert("default".into(), default);
        }
        out
    }
}
