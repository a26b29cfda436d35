//! `--stream` on a terminal: the partial object redrawn in place as it grows. Only the
//! lines that fit on the screen are drawn (the end of the object, where it grows), so
//! that moving the cursor back up always reaches the top of what was drawn.

use std::io::{self, Write};

/// A region of the terminal that shows the latest partial.
pub struct Live {
    out: Box<dyn Write>,
    /// Rows drawn last time (the cursor is on the row after them).
    rows: usize,
    /// The terminal's size, read once (columns, rows).
    size: (usize, usize),
}

impl Live {
    /// Draws on `out`, a terminal of `size` (columns, rows).
    pub fn new(out: Box<dyn Write>, size: (usize, usize)) -> Self {
        Live {
            out,
            rows: 0,
            size: (size.0.max(10), size.1.max(3)),
        }
    }

    /// Replaces what was drawn with `text` (its last lines, if it is taller than the
    /// screen), and a note line when given.
    pub fn draw(&mut self, text: &str, note: Option<&str>) -> io::Result<()> {
        let (columns, height) = self.size;
        let mut lines: Vec<&str> = text.lines().collect();
        if let Some(note) = note {
            lines.push(note);
        }
        // Rows each line takes once wrapped; keep the last lines that fit.
        let rows_of = |line: &str| line.chars().count().div_ceil(columns).max(1);
        let budget = height - 1;
        let mut used = 0;
        let mut first = lines.len();
        while first > 0 && used + rows_of(lines[first - 1]) <= budget {
            used += rows_of(lines[first - 1]);
            first -= 1;
        }
        let mut frame = String::new();
        self.clear_into(&mut frame);
        for line in &lines[first..] {
            frame.push_str(line);
            frame.push('\n');
        }
        self.rows = used;
        self.out.write_all(frame.as_bytes())?;
        self.out.flush()
    }

    /// Erases what was drawn.
    pub fn clear(&mut self) -> io::Result<()> {
        let mut frame = String::new();
        self.clear_into(&mut frame);
        self.out.write_all(frame.as_bytes())?;
        self.out.flush()
    }

    fn clear_into(&mut self, frame: &mut String) {
        if self.rows > 0 {
            // To the start of the first row drawn, then erase to the end of the screen.
            frame.push_str(&format!("\x1b[{}F\x1b[J", self.rows));
            self.rows = 0;
        }
    }
}
