//! The resume file of a many-item run: one JSON line per finished item, appended as
//! it finishes, read back on a restart to skip the items already done.
//!
//! A line is `{"id": ..., "ok": true, "value": ...}` for a value, or
//! `{"id": ..., "ok": false, "error": "..."}`
//! for a failure, with `"usage"` and `"attempts"` beside. Each line is built whole and
//! handed to the system in one `write` on a file opened for appending, so that a kill
//! leaves at most one torn line, the last: a line that does not parse is ignored on
//! resume, and its item is done again. An item that failed is also done again on a
//! restart (a timeout or a spent budget may not fail twice); the newer line follows
//! the older one in the file.
//!
//! The writes are plain blocking file writes of one short line each, made from the
//! stream's `poll_next`: far shorter than the request that produced the line, and they
//! need no runtime feature (`tokio::fs` would need tokio's blocking pool).

use crate::chat::Usage;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::hash::Hash;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The resume file could not be read or opened for appending.
#[derive(Debug, thiserror::Error)]
#[error("cannot use {path} as the resume file: {source}")]
pub struct ResumeError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// One line as written.
#[derive(Serialize)]
pub(crate) struct LineOut<'a, Id, T> {
    pub id: &'a Id,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub usage: &'a Usage,
    pub attempts: u32,
}

/// One line as read back: only what resuming needs.
#[derive(Deserialize)]
struct LineIn<Id> {
    id: Id,
    #[serde(default)]
    ok: bool,
    // Read (and skipped) so that a line cut inside its value does not parse.
    #[serde(default)]
    #[allow(dead_code)]
    value: Option<IgnoredAny>,
}

/// The open resume file.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens `path` for appending (creating it), and reads the ids whose last line
    /// holds a value. A torn last line is closed with a newline, so that the next line
    /// starts on its own.
    pub(crate) fn open<Id: DeserializeOwned + Eq + Hash>(
        path: &Path,
    ) -> Result<(Journal, HashSet<Id>), ResumeError> {
        let error = |source| ResumeError {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(error)?;
        let mut done = HashSet::new();
        let mut reader = BufReader::new(&file);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(error)? == 0 {
                break;
            }
            // A torn line (a kill mid-write) does not parse, and its item is redone.
            let Ok(read) = serde_json::from_slice::<LineIn<Id>>(&line) else {
                continue;
            };
            if read.ok {
                done.insert(read.id);
            } else {
                done.remove(&read.id);
            }
        }
        drop(reader);
        let len = file.seek(SeekFrom::End(0)).map_err(error)?;
        if len > 0 {
            file.seek(SeekFrom::End(-1)).map_err(error)?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last).map_err(error)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(error)?;
            }
        }
        Ok((
            Journal {
                path: path.to_owned(),
                file,
            },
            done,
        ))
    }

    /// Appends one line (`line` without its newline) in one write, and flushes it.
    pub(crate) fn append(&mut self, mut line: Vec<u8>) -> Result<(), String> {
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|error| format!("cannot append to {}: {error}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "instructor-journal-{}-{name}.jsonl",
            std::process::id()
        ))
    }

    #[test]
    fn values_are_done_failures_and_torn_lines_are_not() {
        let path = temp_path("resume");
        std::fs::write(
            &path,
            concat!(
                "{\"id\":1,\"ok\":true,\"value\":{\"n\":1},\"usage\":{},\"attempts\":1}\n",
                "{\"id\":2,\"ok\":false,\"error\":\"timed out\",\"attempts\":1}\n",
                "{\"id\":3,\"ok\":false,\"error\":\"x\"}\n",
                "{\"id\":3,\"ok\":true,\"value\":3}\n",
                "{\"id\":4,\"ok\":true,\"val",
            ),
        )
        .expect("written");
        let (mut journal, done) = Journal::open::<u32>(&path).expect("opened");
        assert_eq!(done, HashSet::from([1, 3]));
        journal
            .append(b"{\"id\":4,\"ok\":true,\"value\":4}".to_vec())
            .expect("appended");
        drop(journal);
        let (_, done) = Journal::open::<u32>(&path).expect("reopened");
        assert_eq!(done, HashSet::from([1, 3, 4]));
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.ends_with("\"val\n{\"id\":4,\"ok\":true,\"value\":4}\n"),
            "{text}"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_directory_is_a_typed_error() {
        let error = Journal::open::<u32>(&std::env::temp_dir()).expect_err("a directory");
        assert!(error.to_string().contains("cannot use"), "{error}");
    }
}
