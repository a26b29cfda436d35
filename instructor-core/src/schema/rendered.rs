//! Rendered schemas, cached: each shared [`RootSchema`] is rendered once per dialect
//! and kept as serialized JSON, which request bodies embed as is (no `Value` tree, no
//! rendering per request).
//!
//! The cache is keyed by the identity of the `Arc` (`Extract::root_schema` hands out
//! the same one for a type every time). Each entry holds a `Weak` to its schema, which
//! keeps the allocation (not the schema) alive: no other schema can take the same
//! address while the entry exists, and a schema behind a `Weak` cannot be changed in
//! place (`Arc::get_mut` refuses, `Arc::make_mut` moves it), so an entry found by
//! address is the rendering of the schema asked about. Entries of dropped schemas are
//! pruned as the cache grows.

use super::{Dialect, DialectError, RootSchema};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};

/// A schema rendered in one dialect, as compact JSON text.
pub struct RenderedSchema {
    json: Box<RawValue>,
    pretty: OnceLock<String>,
}

impl RenderedSchema {
    fn new(value: &serde_json::Value, dialect: Dialect) -> Result<Self, DialectError> {
        let json = serde_json::value::to_raw_value(value).map_err(|error| DialectError {
            dialect,
            path: "<root>".to_owned(),
            reason: format!("the rendered schema cannot be serialized: {error}"),
        })?;
        Ok(RenderedSchema {
            json,
            pretty: OnceLock::new(),
        })
    }

    /// The schema as compact JSON.
    pub fn json(&self) -> &RawValue {
        &self.json
    }

    /// The schema as compact JSON text.
    pub fn as_str(&self) -> &str {
        self.json.get()
    }

    /// The schema as indented JSON text (for prompts), made on first use.
    pub fn pretty(&self) -> &str {
        self.pretty.get_or_init(|| {
            serde_json::from_str::<serde_json::Value>(self.json.get())
                .ok()
                .and_then(|value| serde_json::to_string_pretty(&value).ok())
                .unwrap_or_else(|| self.json.get().to_owned())
        })
    }

    /// The schema as a `Value` (parsed from the text: for callers that need a tree).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.json.get()).unwrap_or_default()
    }
}

impl fmt::Debug for RenderedSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RenderedSchema")
            .field(&self.as_str())
            .finish()
    }
}

impl Serialize for RenderedSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

type Rendering = Result<Arc<RenderedSchema>, DialectError>;

struct Entry {
    schema: Weak<RootSchema>,
    rendering: Rendering,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<(usize, Dialect), Entry>,
    /// Entries after the last pruning; the next one comes at twice as many.
    pruned_at: usize,
}

/// The most entries kept before the first pruning.
const PRUNE_FLOOR: usize = 64;

fn cache() -> &'static RwLock<Cache> {
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// `root` rendered in `dialect`: rendered on first use, then shared. The same as
/// [`RootSchema::render`], serialized.
///
/// ```
/// use instructor_core::schema::{Dialect, RootSchema, Schema, rendered};
/// use std::sync::Arc;
///
/// let root = Arc::new(RootSchema {
///     schema: Schema::string(),
///     defs: Default::default(),
///     root_name: None,
/// });
/// let first = rendered(&root, Dialect::JsonSchema).unwrap();
/// let again = rendered(&root, Dialect::JsonSchema).unwrap();
/// assert!(Arc::ptr_eq(&first, &again));
/// assert_eq!(first.to_value(), root.render(Dialect::JsonSchema).unwrap());
/// ```
///
/// # Errors
///
/// As [`RootSchema::render`]: a schema the dialect cannot express.
pub fn rendered(
    root: &Arc<RootSchema>,
    dialect: Dialect,
) -> Result<Arc<RenderedSchema>, DialectError> {
    let cache = cache();
    let key = (Arc::as_ptr(root) as usize, dialect);
    {
        let read = cache.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = read.entries.get(&key)
            && std::ptr::eq(entry.schema.as_ptr(), Arc::as_ptr(root))
        {
            return entry.rendering.clone();
        }
    }
    // Rendered outside the lock.
    let rendering: Rendering = root
        .render(dialect)
        .and_then(|value| RenderedSchema::new(&value, dialect))
        .map(Arc::new);
    let mut write = cache.write().unwrap_or_else(PoisonError::into_inner);
    if write.entries.len() >= write.pruned_at.saturating_mul(2).max(PRUNE_FLOOR) {
        write
            .entries
            .retain(|_, entry| entry.schema.strong_count() > 0);
        write.pruned_at = write.entries.len();
    }
    let entry = write.entries.entry(key).or_insert_with(|| Entry {
        schema: Arc::downgrade(root),
        rendering,
    });
    entry.rendering.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn root() -> Arc<RootSchema> {
        Arc::new(RootSchema {
            schema: Schema::string().with_description("a name"),
            defs: Default::default(),
            root_name: None,
        })
    }

    #[test]
    fn each_dialect_is_rendered_once_per_schema() {
        let schema = root();
        let strict = rendered(&schema, Dialect::OpenAiStrict).unwrap_or_else(|e| panic!("{e}"));
        let again = rendered(&schema, Dialect::OpenAiStrict).unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&strict, &again));
        let plain = rendered(&schema, Dialect::JsonSchema).unwrap_or_else(|e| panic!("{e}"));
        assert!(!Arc::ptr_eq(&strict, &plain));
        for (dialect, text) in [
            (Dialect::OpenAiStrict, &strict),
            (Dialect::JsonSchema, &plain),
        ] {
            let direct = schema.render(dialect).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(text.as_str(), direct.to_string());
            assert_eq!(
                text.pretty(),
                serde_json::to_string_pretty(&direct).unwrap_or_default()
            );
        }
    }

    #[test]
    fn an_equal_schema_elsewhere_is_rendered_on_its_own_and_dropped_ones_are_pruned() {
        let first = root();
        let a = rendered(&first, Dialect::JsonSchema).unwrap_or_else(|e| panic!("{e}"));
        // Many short-lived schemas: the cache does not keep growing with them.
        for _ in 0..1000 {
            let other = root();
            let b = rendered(&other, Dialect::JsonSchema).unwrap_or_else(|e| panic!("{e}"));
            assert!(!Arc::ptr_eq(&a, &b));
            assert_eq!(a.as_str(), b.as_str());
        }
        let again = rendered(&first, Dialect::JsonSchema).unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&a, &again));
        // Pruned at twice the live entries (other tests' included): far below 1000.
        let len = cache().read().map_or(0, |cache| cache.entries.len());
        assert!(len < 500, "{len} entries");
    }

    #[test]
    fn refusals_are_cached_too() {
        let map = Arc::new(RootSchema {
            schema: Schema::map(Schema::string()),
            defs: Default::default(),
            root_name: None,
        });
        let first = rendered(&map, Dialect::OpenAiStrict).map(|_| ());
        let direct = map.render(Dialect::OpenAiStrict).map(|_| ());
        assert!(first.is_err());
        assert_eq!(first, direct);
        assert_eq!(rendered(&map, Dialect::OpenAiStrict).map(|_| ()), direct);
    }
}
