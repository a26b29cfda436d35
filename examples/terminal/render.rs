//! Draws the extraction of a [`Report`] live in a terminal: one line per field, redrawn
//! in place on each update (ANSI cursor moves), a spinner on each field still streaming,
//! a check mark on each complete one; re-asks are printed above as they happen, then the
//! validated report stays on screen.
//!
//! Writes to any `io::Write`, so the smoke test renders into a `Vec<u8>` without a TTY.

use std::io::{self, Write};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use instructor::client::PartialUpdate;
use serde_json::Value;

use crate::report::{Report, partial_json};

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const DONE: char = '✓';
const WAITING: char = '·';

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Redraw in place with ANSI escapes; without, only notes and the last frame are
    /// printed (for output that is not a terminal).
    pub ansi: bool,
    /// Lines longer than this many characters are cut with `…`.
    pub width: usize,
    /// Turns the spinners this often even when no update arrives (`None`: only on updates).
    pub tick: Option<Duration>,
}

/// The lines drawn last, to move back over them.
#[derive(Debug, Default)]
pub struct Screen {
    ansi: bool,
    drawn: usize,
    frame: usize,
}

impl Screen {
    /// A screen that redraws in place with ANSI escapes when `ansi`, else appends.
    pub fn new(ansi: bool) -> Self {
        Self {
            ansi,
            ..Self::default()
        }
    }

    /// Moves back over the lines drawn last and clears from there: a frame starts here.
    fn rewind(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.ansi {
            if self.drawn > 0 {
                write!(out, "\x1b[{}A", self.drawn)?;
            }
            write!(out, "\r\x1b[J")?;
        }
        self.drawn = 0;
        Ok(())
    }

    /// Replaces the lines drawn last by `lines`.
    pub fn draw(&mut self, out: &mut impl Write, lines: &[String]) -> io::Result<()> {
        self.rewind(out)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
        self.drawn = lines.len();
        self.frame += 1;
        out.flush()
    }

    /// Prints `text` above the live lines, which are drawn again on the next update.
    pub fn note(&mut self, out: &mut impl Write, text: &str) -> io::Result<()> {
        self.rewind(out)?;
        writeln!(out, "{text}")?;
        out.flush()
    }
}

/// The lines for a partial report in the JSON shape of [`partial_json`] (present fields
/// plus `"$state"`), with spinner frame `frame`.
pub fn lines(view: &Value, frame: usize, width: usize) -> Vec<String> {
    let spinner = SPINNER[frame % SPINNER.len()];
    let mark = |object: &Value, key: &str| match object.get("$state").and_then(|s| s.get(key)) {
        _ if object.get(key).is_none() => WAITING,
        Some(Value::String(state)) if state == "complete" => DONE,
        _ => spinner,
    };
    let text = |object: &Value, key: &str| match object.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut lines = Vec::new();
    for key in ["title", "summary"] {
        lines.push(format!("{} {key}: {}", mark(view, key), text(view, key)));
    }
    lines.push(format!("{} sections:", mark(view, "sections")));
    if let Some(Value::Array(sections)) = view.get("sections") {
        for (i, section) in sections.iter().enumerate() {
            let item_mark = if mark(section, "heading") == DONE && mark(section, "body") == DONE {
                DONE
            } else {
                spinner
            };
            lines.push(format!(
                "    {item_mark} {}. {} — {}",
                i + 1,
                text(section, "heading"),
                text(section, "body")
            ));
        }
    }
    lines.push(format!(
        "{} score: {}",
        mark(view, "score"),
        text(view, "score")
    ));
    lines.into_iter().map(|line| cut(line, width)).collect()
}

fn cut(line: String, width: usize) -> String {
    if line.chars().count() <= width {
        return line;
    }
    let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The validated report as a view: every field present and complete.
fn complete_view(report: &Report) -> Value {
    let mut view = serde_json::to_value(report).unwrap_or(Value::Null);
    let complete = |keys: &[&str]| {
        Value::Object(
            keys.iter()
                .map(|k| ((*k).to_owned(), Value::from("complete")))
                .collect(),
        )
    };
    if let Some(Value::Array(sections)) = view.get_mut("sections") {
        for section in sections {
            if let Some(section) = section.as_object_mut() {
                section.insert("$state".to_owned(), complete(&["heading", "body"]));
            }
        }
    }
    if let Some(object) = view.as_object_mut() {
        object.insert(
            "$state".to_owned(),
            complete(&["title", "summary", "sections", "score"]),
        );
    }
    view
}

/// Shows `updates` until the end; returns the validated report, or the error in words.
pub async fn show<S>(
    mut updates: S,
    out: &mut impl Write,
    options: Options,
) -> io::Result<Result<Report, String>>
where
    S: Stream<Item = Result<PartialUpdate<Report>, instructor::Error>> + Unpin,
{
    let mut screen = Screen::new(options.ansi);
    let mut view = serde_json::json!({});
    let mut ticker = options.tick.map(tokio::time::interval);
    loop {
        let update = match &mut ticker {
            Some(ticker) => tokio::select! {
                update = updates.next() => update,
                _ = ticker.tick() => {
                    if options.ansi {
                        let lines = lines(&view, screen.frame, options.width);
                        screen.draw(out, &lines)?;
                    }
                    continue;
                }
            },
            None => updates.next().await,
        };
        match update {
            Some(Ok(PartialUpdate::Partial(partial))) => {
                view = partial_json(&partial);
                if options.ansi {
                    let lines = lines(&view, screen.frame, options.width);
                    screen.draw(out, &lines)?;
                }
            }
            Some(Ok(PartialUpdate::Restarted { attempt, reason })) => {
                view = serde_json::json!({});
                screen.note(
                    out,
                    &format!("↻ starting over (attempt {attempt}): {reason}"),
                )?;
            }
            Some(Ok(PartialUpdate::Done(done))) => {
                let lines = lines(&complete_view(&done.value), 0, options.width);
                screen.draw(out, &lines)?;
                let attempts = done.ledger.attempts.len();
                writeln!(out, "validated after {attempts} attempt(s)")?;
                return Ok(Ok(done.value));
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                screen.note(out, &format!("✗ the extraction failed: {error}"))?;
                return Ok(Err(error.to_string()));
            }
            None => {
                screen.note(out, "✗ the stream ended without a value")?;
                return Ok(Err("the stream ended without a value".to_owned()));
            }
        }
    }
}
