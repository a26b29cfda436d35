//! Constraints a dialect cannot write as keywords, said in words in the description,
//! so the model still reads them instead of them being dropped silently.

use crate::schema::Bound;
use serde_json::Value;

/// Readable constraint texts collected for one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Notes(Vec<String>);

impl Notes {
    /// `at least 3 characters`, `between 1 and 5 characters`, `exactly 1 character`.
    pub(super) fn length(&mut self, min: Option<u64>, max: Option<u64>) {
        self.counted(min, max, "character", "characters");
    }

    /// `at least 1 item`, `at most 10 items`.
    pub(super) fn items(&mut self, min: Option<u64>, max: Option<u64>) {
        self.counted(min, max, "item", "items");
    }

    /// `at least 1 entry`, `at most 10 entries`.
    pub(super) fn entries(&mut self, min: Option<u64>, max: Option<u64>) {
        self.counted(min, max, "entry", "entries");
    }

    /// `at least 0`, `between 1 and 5`. Bounds that only say that an integer fits in
    /// 32 bits or more are left out: no model needs to read 9223372036854775807.
    pub(super) fn range(&mut self, min: Option<Bound>, max: Option<Bound>) {
        let min = min
            .filter(|b| !is_width_limit(*b))
            .map(|b| b.to_json().to_string());
        let max = max
            .filter(|b| !is_width_limit(*b))
            .map(|b| b.to_json().to_string());
        if let Some(text) = bounds_text(min, max, None) {
            self.0.push(text);
        }
    }

    /// `pattern: ^[a-z]+$`.
    pub(super) fn pattern(&mut self, pattern: &str) {
        self.0.push(format!("pattern: {pattern}"));
    }

    /// `format: uri`.
    pub(super) fn format(&mut self, format: &str) {
        self.0.push(format!("format: {format}"));
    }

    /// `none of "a", "b"`.
    pub(super) fn excluded(&mut self, values: &[String]) {
        let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        self.0.push(format!("none of {}", list.join(", ")));
    }

    /// `no duplicate items`.
    pub(super) fn unique_items(&mut self) {
        self.0.push("no duplicate items".to_owned());
    }

    /// `example: "a"` or `examples: "a", "b"`.
    pub(super) fn examples(&mut self, examples: &[Value]) {
        let list = examples
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match examples.len() {
            0 => {}
            1 => self.0.push(format!("example: {list}")),
            _ => self.0.push(format!("examples: {list}")),
        }
    }

    /// `default: 0`.
    pub(super) fn default_value(&mut self, default: &Value) {
        self.0.push(format!("default: {default}"));
    }

    /// `description` with the notes appended: `Name (at least 3 characters)`, or the
    /// notes alone when there is no description.
    pub(super) fn append_to(self, description: Option<String>) -> Option<String> {
        if self.0.is_empty() {
            return description;
        }
        let notes = self.0.join("; ");
        Some(match description {
            Some(description) => format!("{description} ({notes})"),
            None => notes,
        })
    }

    fn counted(&mut self, min: Option<u64>, max: Option<u64>, one: &str, many: &str) {
        let unit = |n: u64| if n == 1 { one } else { many };
        let plural_unit = max.or(min).map(unit);
        if let Some(text) = bounds_text(
            min.map(|n| n.to_string()),
            max.map(|n| n.to_string()),
            plural_unit,
        ) {
            self.0.push(text);
        }
    }
}

fn bounds_text(min: Option<String>, max: Option<String>, unit: Option<&str>) -> Option<String> {
    let text = match (min, max) {
        (Some(min), Some(max)) if min == max => format!("exactly {min}"),
        (Some(min), Some(max)) => format!("between {min} and {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => return None,
    };
    Some(match unit {
        Some(unit) => format!("{text} {unit}"),
        None => text,
    })
}

/// Whether `bound` is the limit of a 32-bit or wider integer type (`i32::MAX`,
/// `u64::MAX`, ...): those only say what the Rust type can hold. The limits of 8- and
/// 16-bit types (`0..=255`) are real ranges a model should see.
fn is_width_limit(bound: Bound) -> bool {
    const WIDE_LIMITS: [i128; 6] = [
        i32::MIN as i128,
        i32::MAX as i128,
        u32::MAX as i128,
        i64::MIN as i128,
        i64::MAX as i128,
        u64::MAX as i128,
    ];
    match bound {
        Bound::Int(v) => {
            WIDE_LIMITS.contains(&v) || v < i128::from(i64::MIN) || v > i128::from(u64::MAX)
        }
        Bound::UInt(v) => match i128::try_from(v) {
            Ok(v) => is_width_limit(Bound::Int(v)),
            Err(_) => true,
        },
        Bound::Float(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(build: impl FnOnce(&mut Notes)) -> Option<String> {
        let mut notes = Notes::default();
        build(&mut notes);
        notes.append_to(None)
    }

    #[test]
    fn lengths_read_as_english() {
        assert_eq!(
            text(|n| n.length(Some(3), None)).as_deref(),
            Some("at least 3 characters")
        );
        assert_eq!(
            text(|n| n.length(None, Some(1))).as_deref(),
            Some("at most 1 character")
        );
        assert_eq!(
            text(|n| n.length(Some(1), Some(1))).as_deref(),
            Some("exactly 1 character")
        );
        assert_eq!(
            text(|n| n.items(Some(1), Some(5))).as_deref(),
            Some("between 1 and 5 items")
        );
        assert_eq!(text(|n| n.entries(None, None)), None);
    }

    #[test]
    fn ranges_keep_the_limits_of_small_integer_types() {
        let u8_range =
            |n: &mut Notes| n.range(Some(Bound::Int(0)), Some(Bound::UInt(u8::MAX.into())));
        assert_eq!(text(u8_range).as_deref(), Some("between 0 and 255"));
        let u32_range =
            |n: &mut Notes| n.range(Some(Bound::Int(1)), Some(Bound::UInt(u32::MAX.into())));
        assert_eq!(text(u32_range).as_deref(), Some("at least 1"));
    }

    #[test]
    fn ranges_leave_out_integer_width_limits() {
        let u64_range =
            |n: &mut Notes| n.range(Some(Bound::Int(0)), Some(Bound::UInt(u64::MAX.into())));
        assert_eq!(text(u64_range).as_deref(), Some("at least 0"));
        let i64_range = |n: &mut Notes| {
            n.range(
                Some(Bound::Int(i64::MIN.into())),
                Some(Bound::Int(i64::MAX.into())),
            );
        };
        assert_eq!(text(i64_range), None);
        let percent = |n: &mut Notes| n.range(Some(Bound::Float(0.0)), Some(Bound::Float(1.5)));
        assert_eq!(text(percent).as_deref(), Some("between 0.0 and 1.5"));
    }

    #[test]
    fn notes_follow_the_description_in_parentheses() {
        let mut notes = Notes::default();
        notes.length(Some(3), None);
        notes.format("uri");
        assert_eq!(
            notes.append_to(Some("Home page".into())).as_deref(),
            Some("Home page (at least 3 characters; format: uri)")
        );
    }
}
