//! Wire structs of the Chat Completions API: the request we build and the responses and
//! chunks we read.
//!
//! Requests are checked strictly (tests validate them against the OpenAPI document);
//! responses are read leniently: every field may be absent or `null`, unknown fields are
//! ignored, and `content` may be a string or an array of parts (Mistral and some local
//! servers send parts), of which only text parts are read.

use instructor_core::chat::{MAX_TOOL_CALLS, ToolCall};
use instructor_core::schema::RenderedSchema;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletionRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<RequestMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prompt_cache_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

/// One message; `content` is a string, an array of parts, or absent (an assistant
/// message with tool calls only).
#[derive(Debug, Serialize)]
pub(crate) struct RequestMessage<'a> {
    pub(crate) role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<RequestContent<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<RequestToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum RequestContent<'a> {
    Text(&'a str),
    Parts(Vec<RequestPart<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum RequestPart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl },
    File { file: FileData },
}

#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl {
    pub(crate) url: String,
}

/// A file sent inline (`file_data` is a `data:` URL, as OpenAI reads it).
#[derive(Debug, Serialize)]
pub(crate) struct FileData {
    pub(crate) filename: String,
    pub(crate) file_data: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RequestToolCall<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: RequestFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RequestFunctionCall<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionDefinition<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FunctionDefinition<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    /// Rendered once per schema and dialect, embedded as is.
    pub(crate) parameters: Arc<RenderedSchema>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice<'a> {
    /// `"auto"`, `"none"`, `"required"`.
    Mode(&'static str),
    /// `{"type": "function", "function": {"name": ...}}`.
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NamedFunction<'a>,
    },
}

#[derive(Debug, Serialize)]
pub(crate) struct NamedFunction<'a> {
    pub(crate) name: Cow<'a, str>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ResponseFormat<'a> {
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat<'a> },
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonSchemaFormat<'a> {
    pub(crate) name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    pub(crate) schema: Arc<RenderedSchema>,
    pub(crate) strict: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// Deserializes `null` (and absence, with `#[serde(default)]`) as the default value.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A non-streamed answer, read in place: strings borrow from the body (unless they
/// have escapes), only the choice that is read is kept ([`FirstChoice`]), and tool calls
/// are read straight into the calls of the response ([`ToolCalls`]), so that each of
/// their texts is copied once, into what the response keeps.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChatCompletion<'a> {
    #[serde(default, borrow)]
    pub(crate) id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) model: Option<Text<'a>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    pub(crate) choices: FirstChoice<'a>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    /// Some servers answer 200 with an error object instead of a completion.
    #[serde(default)]
    pub(crate) error: Option<Box<Value>>,
}

/// The choice that is read of a `choices` array: the first with index 0, else the first
/// (the others are read, and dropped as they come).
#[derive(Debug, Default)]
pub(crate) struct FirstChoice<'a>(pub(crate) Option<Choice<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstChoice<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChoicesVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ChoicesVisitor<'a> {
            type Value = FirstChoice<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut chosen: Option<Choice<'a>> = None;
                while let Some(choice) = seq.next_element::<Choice<'a>>()? {
                    match &chosen {
                        Some(kept) if kept.index == 0 || choice.index != 0 => {}
                        _ => chosen = Some(choice),
                    }
                }
                Ok(FirstChoice(chosen))
            }
        }

        deserializer.deserialize_seq(ChoicesVisitor(PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice<'a> {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) index: u64,
    #[serde(default, borrow, deserialize_with = "nullable")]
    pub(crate) message: ResponseMessage<'a>,
    #[serde(default, borrow)]
    pub(crate) finish_reason: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseMessage<'a> {
    #[serde(default, borrow)]
    pub(crate) content: Option<Loose<'a>>,
    #[serde(default, borrow)]
    pub(crate) refusal: Option<Text<'a>>,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) tool_calls: ToolCalls,
}

/// The tool calls of a message, each read into the [`ToolCall`] the response keeps (its
/// arguments copied once, into the shared text): at most [`MAX_TOOL_CALLS`] are kept,
/// and `count` says how many there were.
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    pub(crate) calls: Vec<ToolCall>,
    pub(crate) count: usize,
}

impl<'de> Deserialize<'de> for ToolCalls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallsVisitor;

        impl<'de> Visitor<'de> for CallsVisitor {
            type Value = ToolCalls;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut calls = ToolCalls {
                    calls: Vec::with_capacity(seq.size_hint().unwrap_or(1).clamp(1, 8)),
                    count: 0,
                };
                while let Some(call) = seq.next_element::<ResponseToolCall<'de>>()? {
                    calls.count += 1;
                    if calls.calls.len() < MAX_TOOL_CALLS {
                        calls.calls.push(ToolCall {
                            id: call.id.map(Text::into_owned).unwrap_or_default(),
                            name: call.function.name.map(Text::into_owned).unwrap_or_default(),
                            arguments: call.function.arguments.unwrap_or_else(|| Arc::from("")),
                        });
                    }
                }
                Ok(calls)
            }
        }

        deserializer.deserialize_seq(CallsVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseToolCall<'a> {
    #[serde(default, borrow)]
    pub(crate) id: Option<Text<'a>>,
    #[serde(default, borrow, deserialize_with = "nullable")]
    pub(crate) function: ResponseFunction<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseFunction<'a> {
    #[serde(default, borrow)]
    pub(crate) name: Option<Text<'a>>,
    /// A JSON string per the spec; some servers send the arguments as an object.
    #[serde(default, deserialize_with = "shared_arguments")]
    pub(crate) arguments: Option<Arc<str>>,
}

/// A string, borrowed from the body unless it has escapes (`Option<Cow<str>>` would be
/// copied always: serde borrows a `Cow` only when it is the field's type itself).
#[derive(Debug)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl Text<'_> {
    pub(crate) fn into_owned(self) -> String {
        self.0.into_owned()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A value that is a string nearly always (`content`, a call's `arguments`): the string
/// borrowed from the body unless it has escapes, anything else kept as the [`Value`]
/// it is.
#[derive(Debug)]
pub(crate) enum Loose<'a> {
    Text(Cow<'a, str>),
    /// A call's arguments, read straight into the shared text they end as
    /// ([`shared_arguments`]).
    Shared(Arc<str>),
    Other(Box<Value>),
}

impl Loose<'_> {
    /// The text of a `content` value (see [`content_text`]).
    pub(crate) fn into_content_text(self) -> Option<String> {
        match self {
            Loose::Text(text) => Some(text.into_owned()),
            Loose::Shared(text) => Some(text.as_ref().to_owned()),
            Loose::Other(other) => content_text(&other),
        }
    }

    /// The arguments as shared JSON text: a string as is (copied once), an object or
    /// array serialized, `null` empty.
    pub(crate) fn into_arguments(self) -> Arc<str> {
        match self {
            Loose::Text(text) => Arc::from(&*text),
            Loose::Shared(text) => text,
            Loose::Other(other) => arguments_text(Some(&other)).into(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor::<false>)
    }
}

/// A call's `arguments` (absent or `null`: none), a string read straight into the
/// shared text the call keeps: copied once from the body, or from serde's buffer when
/// it has escapes (as arguments always do: they are JSON), instead of into a `String`
/// first and then into the shared text, which held the answer three times at once.
pub(crate) fn shared_arguments<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Arc<str>>, D::Error> {
    Ok(match deserializer.deserialize_any(LooseVisitor::<true>)? {
        Loose::Other(other) if other.is_null() => None,
        loose => Some(loose.into_arguments()),
    })
}

/// Reads a [`Loose`]; `SHARED`: a string as [`Loose::Shared`].
struct LooseVisitor<const SHARED: bool>;

impl<'de, const SHARED: bool> Visitor<'de> for LooseVisitor<SHARED> {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(match SHARED {
            true => Loose::Shared(Arc::from(text)),
            false => Loose::Text(Cow::Borrowed(text)),
        })
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(match SHARED {
            true => Loose::Shared(Arc::from(text)),
            false => Loose::Text(Cow::Owned(text.to_owned())),
        })
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(match SHARED {
            true => Loose::Shared(Arc::from(text)),
            false => Loose::Text(Cow::Owned(text)),
        })
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::Bool(value))))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::from(value))))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::from(value))))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::from(value))))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::Null)))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other(Box::new(Value::Null)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Loose::Other(Box::new(value)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Loose::Other(Box::new(value)))
    }
}

/// A token count read leniently: a count past `u64::MAX` (or a float) saturates, and a
/// negative or non-numeric one counts as absent (0), rather than making the whole answer
/// unreadable for the sake of its bookkeeping.
fn count<'de, D>(deserializer: D) -> Result<u64, D::Error>
where
    D: Deserializer<'de>,
{
    struct CountVisitor;

    impl<'de> Visitor<'de> for CountVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a token count")
        }

        fn visit_u64<E>(self, count: u64) -> Result<u64, E> {
            Ok(count)
        }

        fn visit_i64<E>(self, count: i64) -> Result<u64, E> {
            // Negative (serde_json gives `i64` only to those): absent.
            Ok(u64::try_from(count).unwrap_or(0))
        }

        fn visit_f64<E>(self, count: f64) -> Result<u64, E> {
            // `as` saturates: 1e30 is u64::MAX, a negative or NaN is 0.
            Ok(count as u64)
        }

        fn visit_bool<E>(self, _: bool) -> Result<u64, E> {
            Ok(0)
        }

        fn visit_str<E>(self, _: &str) -> Result<u64, E> {
            Ok(0)
        }

        fn visit_unit<E>(self) -> Result<u64, E> {
            Ok(0)
        }

        fn visit_none<E>(self) -> Result<u64, E> {
            Ok(0)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
            deserializer.deserialize_any(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(0)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(0)
        }
    }

    deserializer.deserialize_any(CountVisitor)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "count")]
    pub(crate) prompt_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub(crate) completion_tokens: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) prompt_tokens_details: TokenDetails,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) completion_tokens_details: TokenDetails,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenDetails {
    #[serde(default, deserialize_with = "count")]
    pub(crate) cached_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub(crate) reasoning_tokens: u64,
}

/// The text of a `content` value: a string, or the `text` of the text parts of an array
/// (other part types, such as `thinking`, are skipped).
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            let mut any = false;
            for part in parts {
                let is_text = part
                    .get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|kind| kind == "text");
                if let (true, Some(piece)) = (is_text, part.get("text").and_then(Value::as_str)) {
                    text.push_str(piece);
                    any = true;
                }
            }
            any.then_some(text)
        }
        _ => None,
    }
}

/// The arguments as JSON text: a string as is, an object or array serialized.
pub(crate) fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Merges `extra` into the top level of `body` (extra wins).
pub(crate) fn merge_extra(body: &mut Value, extra: &Map<String, Value>) {
    if let Value::Object(map) = body {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
}
