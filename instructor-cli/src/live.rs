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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal that records what was written to it.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        fn take(&self) -> String {
            let mut bytes = self.0.lock().expect("the screen");
            String::from_utf8(std::mem::take(&mut *bytes)).expect("UTF-8")
        }
    }

    #[test]
    fn each_draw_moves_back_over_the_rows_of_the_last_and_erases_them() {
        let screen = Screen::default();
        let mut live = Live::new(Box::new(screen.clone()), (80, 24));
        live.draw("{\n  \"a\": \"x\"\n}", None).expect("drawn");
        assert_eq!(screen.take(), "{\n  \"a\": \"x\"\n}\n");
        live.draw("{\n  \"a\": \"xy\",\n  \"b\": 1\n}", Some("(attempt 2)"))
            .expect("drawn");
        assert_eq!(
            screen.take(),
            "\x1b[3F\x1b[J{\n  \"a\": \"xy\",\n  \"b\": 1\n}\n(attempt 2)\n"
        );
        live.clear().expect("cleared");
        assert_eq!(screen.take(), "\x1b[5F\x1b[J");
        live.clear().expect("nothing to clear");
        assert_eq!(screen.take(), "");
    }

    #[test]
    fn a_value_taller_than_the_screen_shows_its_last_lines_and_wrapped_lines_count_twice() {
        let screen = Screen::default();
        // 10 columns, 5 rows: 4 rows may be drawn (the cursor needs the last one).
        let mut live = Live::new(Box::new(screen.clone()), (10, 5));
        let text = "l1\nl2\nl3\na line of 17 chars\nl5";
        live.draw(text, None).expect("drawn");
        // "l5" (1 row) and the long line (2 rows) and "l3" (1 row) fit; "l1", "l2" do not.
        assert_eq!(screen.take(), "l3\na line of 17 chars\nl5\n");
        live.clear().expect("cleared");
        assert_eq!(screen.take(), "\x1b[4F\x1b[J");
    }
}
