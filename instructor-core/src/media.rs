//! Images and documents in messages, one API for every provider.
//!
//! An [`Image`] or a [`Document`] comes from a URL, a file, bytes or base64; from bytes
//! (and files and base64) its MIME type is sniffed from the content, never taken from a
//! file name, so a PNG named `photo.jpg` is sent as `image/png`. Each provider maps the
//! part to its wire shape, or refuses it with `ProviderError::Unsupported` before
//! anything is sent.
//!
//! ```
//! use instructor_core::chat::{ContentPart, Message};
//! use instructor_core::media::Image;
//!
//! // The smallest valid GIF: the type is read from the bytes.
//! let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
//! let image = Image::from_bytes(gif)?;
//! assert_eq!(image.media_type(), Some("image/gif"));
//!
//! let message = Message::user(("What is in this image?", image.cached()));
//! assert_eq!(message.content.len(), 3); // text, image, cache breakpoint
//! assert!(matches!(message.content[2], ContentPart::CacheBreakpoint { .. }));
//! # Ok::<(), instructor_core::media::MediaError>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Image types every provider with vision takes.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Where the bytes of an image or a document are.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaSource {
    /// A URL the provider fetches (`https://...`, or `gs://...` on Vertex AI).
    Url {
        /// The URL.
        url: String,
    },
    /// The bytes themselves, base64-encoded (standard alphabet, padded).
    Base64 {
        /// The MIME type, sniffed from the bytes.
        media_type: String,
        /// The encoded bytes.
        data: String,
    },
}

impl fmt::Debug for MediaSource {
    // The data of an image can be megabytes: show its size, not its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaSource::Url { url } if url.starts_with("data:") => f
                .debug_struct("Url")
                .field("url", &format_args!("data: URL, {} bytes", url.len()))
                .finish(),
            MediaSource::Url { url } => f.debug_struct("Url").field("url", url).finish(),
            MediaSource::Base64 { media_type, data } => f
                .debug_struct("Base64")
                .field("media_type", media_type)
                .field("data", &format_args!("{} base64 bytes", data.len()))
                .finish(),
        }
    }
}

impl MediaSource {
    /// The MIME type, when known (always for base64; for a URL only when it is a
    /// `data:` URL).
    pub fn media_type(&self) -> Option<&str> {
        match self {
            MediaSource::Base64 { media_type, .. } => Some(media_type),
            MediaSource::Url { url } => parse_data_url(url).map(|(media_type, _)| media_type),
        }
    }

    /// The source as base64 with its MIME type: the bytes themselves, or a `data:` URL
    /// taken apart. `None` for a URL the provider must fetch.
    pub fn as_base64(&self) -> Option<(&str, &str)> {
        match self {
            MediaSource::Base64 { media_type, data } => Some((media_type, data)),
            MediaSource::Url { url } => parse_data_url(url),
        }
    }

    /// The source as one URL: a fetchable URL as given, bytes as a `data:` URL (what
    /// OpenAI-compatible APIs take).
    pub fn to_url(&self) -> String {
        match self {
            MediaSource::Url { url } => url.clone(),
            MediaSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

/// `data:<type>;base64,<data>` taken apart; `None` for anything else.
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (header, data) = rest.split_once(',')?;
    let media_type = header.strip_suffix(";base64")?;
    (!media_type.is_empty()).then_some((media_type, data))
}

/// Why an image or document could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The base64 text is not valid base64.
    #[error("invalid base64: {0}")]
    Base64(String),
    /// The bytes are not of a type this part takes.
    #[error("{what} must be {expected}, but the bytes are {found}")]
    UnsupportedType {
        /// `an image` or `a document`.
        what: &'static str,
        /// The types it takes.
        expected: String,
        /// What the bytes look like (`image/tiff`, `unknown`).
        found: String,
    },
}

/// Sniffs `bytes` and checks the type is one of `accepted`.
fn sniff(bytes: &[u8], accepted: &[&str], what: &'static str) -> Result<String, MediaError> {
    let found = infer::get(bytes).map(|kind| kind.mime_type());
    match found {
        Some(media_type) if accepted.contains(&media_type) => Ok(media_type.to_owned()),
        _ => Err(MediaError::UnsupportedType {
            what,
            expected: accepted.join(", "),
            found: found.unwrap_or("of an unknown type").to_owned(),
        }),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, MediaError> {
    std::fs::read(path).map_err(|error| MediaError::Read {
        path: path.display().to_string(),
        message: error.to_string(),
    })
}

fn decode_base64(data: &str) -> Result<Vec<u8>, MediaError> {
    STANDARD
        .decode(data.trim())
        .map_err(|error| MediaError::Base64(error.to_string()))
}

/// A source from bytes, base64 or a data URL, with its type checked.
fn source_from_bytes(
    bytes: &[u8],
    accepted: &[&str],
    what: &'static str,
) -> Result<MediaSource, MediaError> {
    let media_type = sniff(bytes, accepted, what)?;
    Ok(MediaSource::Base64 {
        media_type,
        data: STANDARD.encode(bytes),
    })
}

fn source_from_base64(
    data: &str,
    accepted: &[&str],
    what: &'static str,
) -> Result<MediaSource, MediaError> {
    // A data URL given as base64 is taken apart; its stated type is checked against
    // the bytes like any other.
    let data = parse_data_url(data).map_or(data, |(_, data)| data);
    let bytes = decode_base64(data)?;
    let media_type = sniff(&bytes, accepted, what)?;
    Ok(MediaSource::Base64 {
        media_type,
        data: data.trim().to_owned(),
    })
}

/// How long a cached prefix lives (Anthropic: 5 minutes by default, or an hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CacheTtl {
    /// The provider's default (5 minutes on Anthropic).
    #[default]
    Default,
    /// One hour.
    OneHour,
}

/// An image in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where it is.
    pub source: MediaSource,
}

impl Image {
    /// An image at a URL the provider fetches, or a `data:` URL.
    pub fn url(url: impl Into<String>) -> Image {
        Image {
            source: MediaSource::Url { url: url.into() },
        }
    }

    /// An image from its bytes; the type (PNG, JPEG, GIF or WebP) is sniffed from them.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Image, MediaError> {
        Ok(Image {
            source: source_from_bytes(bytes.as_ref(), IMAGE_TYPES, "an image")?,
        })
    }

    /// An image from a file (read now, type sniffed from its bytes).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Image, MediaError> {
        Image::from_bytes(read_file(path.as_ref())?)
    }

    /// An image from base64 text (or a `data:` URL); the bytes are decoded to check
    /// their type.
    pub fn from_base64(data: &str) -> Result<Image, MediaError> {
        Ok(Image {
            source: source_from_base64(data, IMAGE_TYPES, "an image")?,
        })
    }

    /// The MIME type, when known.
    pub fn media_type(&self) -> Option<&str> {
        self.source.media_type()
    }

    /// This image followed by a cache breakpoint: the prompt up to and including it is
    /// cached where the provider caches explicitly (Anthropic).
    pub fn cached(self) -> Parts {
        Parts(vec![
            ContentPart::Image(self),
            ContentPart::CacheBreakpoint {
                ttl: CacheTtl::Default,
            },
        ])
    }
}

/// A document (PDF) in a message, where the provider takes one (Anthropic, Gemini).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Where it is.
    pub source: MediaSource,
    /// A title the model sees, where the provider takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

const DOCUMENT_TYPES: &[&str] = &["application/pdf"];

impl Document {
    /// A PDF at a URL the provider fetches.
    pub fn url(url: impl Into<String>) -> Document {
        Document {
            source: MediaSource::Url { url: url.into() },
            title: None,
        }
    }

    /// A PDF from its bytes (checked to be a PDF).
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Document, MediaError> {
        Ok(Document {
            source: source_from_bytes(bytes.as_ref(), DOCUMENT_TYPES, "a document")?,
            title: None,
        })
    }

    /// A PDF from a file (read now).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Document, MediaError> {
        Document::from_bytes(read_file(path.as_ref())?)
    }

    /// A PDF from base64 text (or a `data:` URL).
    pub fn from_base64(data: &str) -> Result<Document, MediaError> {
        Ok(Document {
            source: source_from_base64(data, DOCUMENT_TYPES, "a document")?,
            title: None,
        })
    }

    /// Gives the document a title.
    pub fn title(mut self, title: impl Into<String>) -> Document {
        self.title = Some(title.into());
        self
    }

    /// This document followed by a cache breakpoint.
    pub fn cached(self) -> Parts {
        Parts(vec![
            ContentPart::Document(self),
            ContentPart::CacheBreakpoint {
                ttl: CacheTtl::Default,
            },
        ])
    }
}

use crate::chat::ContentPart;

/// Text that ends a cached prefix: `cached("<book>...</book>")` is the text followed by
/// a cache breakpoint, as in Anthropic's prompt caching.
pub fn cached(text: impl Into<String>) -> Parts {
    Parts(vec![
        ContentPart::Text { text: text.into() },
        ContentPart::CacheBreakpoint {
            ttl: CacheTtl::Default,
        },
    ])
}

/// The parts of one message, from anything that reads as content: text, an image, a
/// document, a part, a list of parts, or a tuple of up to four of those.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts(pub Vec<ContentPart>);

impl Parts {
    /// Ends the parts with a cache breakpoint.
    pub fn cached(mut self) -> Parts {
        self.0.push(ContentPart::CacheBreakpoint {
            ttl: CacheTtl::Default,
        });
        self
    }

    /// Ends the parts with a cache breakpoint that lives `ttl`.
    pub fn cached_for(mut self, ttl: CacheTtl) -> Parts {
        self.0.push(ContentPart::CacheBreakpoint { ttl });
        self
    }
}

macro_rules! parts_from_one {
    ($($ty:ty => |$value:ident| $part:expr;)*) => {$(
        impl From<$ty> for Parts {
            fn from($value: $ty) -> Parts {
                Parts(vec![$part])
            }
        }
    )*};
}

parts_from_one! {
    &str => |text| ContentPart::Text { text: text.to_owned() };
    String => |text| ContentPart::Text { text };
    &String => |text| ContentPart::Text { text: text.clone() };
    std::borrow::Cow<'_, str> => |text| ContentPart::Text { text: text.into_owned() };
    Box<str> => |text| ContentPart::Text { text: text.into() };
    Image => |image| ContentPart::Image(image);
    Document => |document| ContentPart::Document(document);
    ContentPart => |part| part;
}

impl From<Vec<ContentPart>> for Parts {
    fn from(parts: Vec<ContentPart>) -> Parts {
        Parts(parts)
    }
}

impl<const N: usize> From<[ContentPart; N]> for Parts {
    fn from(parts: [ContentPart; N]) -> Parts {
        Parts(parts.into())
    }
}

macro_rules! parts_from_tuple {
    ($($name:ident),+) => {
        impl<$($name: Into<Parts>),+> From<($($name,)+)> for Parts {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Parts {
                let mut parts = Vec::new();
                $(parts.extend($name.into().0);)+
                Parts(parts)
            }
        }
    };
}

parts_from_tuple!(A, B);
parts_from_tuple!(A, B, C);
parts_from_tuple!(A, B, C, D);
parts_from_tuple!(A, B, C, D, E);

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
    ];
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn the_type_is_sniffed_from_the_bytes() {
        let image = Image::from_bytes(PNG).expect("a png");
        assert_eq!(image.media_type(), Some("image/png"));
        let (media_type, data) = image.source.as_base64().expect("bytes");
        assert_eq!(media_type, "image/png");
        assert_eq!(STANDARD.decode(data).expect("base64"), PNG);
        assert!(
            image
                .source
                .to_url()
                .starts_with("data:image/png;base64,iVBOR")
        );
    }

    #[test]
    fn a_pdf_is_not_an_image_and_text_is_neither() {
        let error = Image::from_bytes(PDF).expect_err("not an image");
        assert_eq!(
            error.to_string(),
            "an image must be image/png, image/jpeg, image/gif, image/webp, but the bytes are application/pdf"
        );
        let error = Document::from_bytes("hello").expect_err("not a pdf");
        assert!(
            error
                .to_string()
                .ends_with("the bytes are of an unknown type")
        );
        assert_eq!(
            Document::from_bytes(PDF)
                .expect("a pdf")
                .source
                .media_type(),
            Some("application/pdf")
        );
    }

    #[test]
    fn base64_and_data_urls_are_decoded_to_check_the_type() {
        let encoded = STANDARD.encode(PNG);
        let image = Image::from_base64(&encoded).expect("png base64");
        assert_eq!(
            image.source.as_base64(),
            Some(("image/png", encoded.as_str()))
        );
        // A data URL that says JPEG but holds a PNG is sent as what it is.
        let image =
            Image::from_base64(&format!("data:image/jpeg;base64,{encoded}")).expect("data url");
        assert_eq!(image.media_type(), Some("image/png"));
        assert!(matches!(
            Image::from_base64("not base64!"),
            Err(MediaError::Base64(_))
        ));
    }

    #[test]
    fn urls_are_kept_and_data_urls_taken_apart() {
        let image = Image::url("https://example.com/cat.jpg");
        assert_eq!(image.media_type(), None);
        assert_eq!(image.source.as_base64(), None);
        let image = Image::url("data:image/webp;base64,AAAA");
        assert_eq!(image.source.as_base64(), Some(("image/webp", "AAAA")));
        assert_eq!(parse_data_url("data:;base64,AAAA"), None);
        assert_eq!(parse_data_url("data:text/plain,hello"), None);
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = Image::from_file("/nonexistent/cat.png").expect_err("no file");
        assert!(
            error
                .to_string()
                .starts_with("cannot read /nonexistent/cat.png: ")
        );
    }

    #[test]
    fn debug_shows_the_size_of_the_data_not_the_data() {
        let image = Image::from_bytes(PNG).expect("a png");
        let debug = format!("{image:?}");
        assert!(debug.contains("image/png") && debug.contains("base64 bytes"));
        assert!(!debug.contains("iVBOR"), "{debug}");
    }

    #[test]
    fn tuples_lists_and_cache_breakpoints_make_parts() {
        let parts: Parts = ("a", String::from("b"), cached("c")).into();
        assert_eq!(
            parts.0,
            [
                ContentPart::Text { text: "a".into() },
                ContentPart::Text { text: "b".into() },
                ContentPart::Text { text: "c".into() },
                ContentPart::CacheBreakpoint {
                    ttl: CacheTtl::Default
                },
            ]
        );
        let parts = Parts::from("x").cached_for(CacheTtl::OneHour);
        assert_eq!(
            parts.0[1],
            ContentPart::CacheBreakpoint {
                ttl: CacheTtl::OneHour
            }
        );
    }
}
