//! The terminal demo (`examples/terminal`) rendered into a `Vec<u8>` (no TTY) against the
//! local fake provider: frames are redrawn in place, fields spin while streaming and get
//! a check mark once complete, the score shows only whole, the re-ask is printed, and
//! the validated report is the last frame.

#[path = "../../examples/terminal/render.rs"]
mod render;
#[path = "../../examples/web/report.rs"]
#[allow(dead_code)]
mod report;

use std::time::Duration;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

async fn render(ansi: bool) -> (String, Result<report::Report, String>) {
    let backend = report::Backend::offline(Duration::ZERO);
    let (client, _server) = backend.ask().await.expect("starting the fake provider");
    let updates = client
        .extract::<report::Report>()
        .system(report::SYSTEM)
        .user(report::SAMPLE_TEXT)
        .partial();
    let mut out = Vec::new();
    let options = render::Options {
        ansi,
        width: 200,
        tick: None,
    };
    let outcome = render::show(updates, &mut out, options)
        .await
        .expect("writing to a Vec cannot fail");
    (String::from_utf8(out).expect("UTF-8 output"), outcome)
}

fn line<'a>(frame: &'a str, prefix: &str) -> Option<&'a str> {
    // A line is a mark, a space, then the field.
    frame.lines().find(|l| {
        let mut chars = l.chars();
        chars.next();
        chars
            .as_str()
            .strip_prefix(' ')
            .is_some_and(|rest| rest.starts_with(prefix))
    })
}

fn spinning(line: &str) -> bool {
    line.chars().next().is_some_and(|c| SPINNER.contains(&c))
}

#[tokio::test]
async fn the_terminal_view_redraws_fields_as_they_stream() {
    let (output, outcome) = render(true).await;
    let report = outcome.expect("a validated report");
    assert_eq!(report.score, 87);

    // Every frame starts by moving back over the previous one and clearing below.
    let frames: Vec<&str> = output.split("\r\x1b[J").skip(1).collect();
    assert!(frames.len() > 50, "only {} frames", frames.len());
    assert!(output.contains("\x1b[6A"), "no redraw over a 6-line frame");

    // The re-ask of the first answer (score 140) is printed as it happens.
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("↻ starting over (attempt 2)")
                && f.contains("score")
                && f.contains("140")),
        "no restart note in {output:?}"
    );

    // The score is shown only whole: the scripted answers cut 140 and 87 between digits.
    let scores: Vec<&str> = frames
        .iter()
        .filter_map(|f| line(f, "score: "))
        .map(|l| l.split_once("score: ").map_or("", |(_, v)| v))
        .filter(|v| !v.is_empty())
        .collect();
    assert!(
        scores.contains(&"140") && scores.contains(&"87"),
        "{scores:?}"
    );
    assert!(
        scores.iter().all(|v| *v == "140" || *v == "87"),
        "{scores:?}"
    );

    // The title spins while it streams, and is checked while the sections still stream.
    assert!(
        frames
            .iter()
            .filter_map(|f| line(f, "title: "))
            .any(spinning),
        "the title never spun"
    );
    let title_done_sections_streaming = frames.iter().filter(|f| {
        line(f, "title: ").is_some_and(|l| l.starts_with('✓'))
            && line(f, "sections:").is_some_and(spinning)
    });
    let items_seen: std::collections::BTreeSet<usize> = title_done_sections_streaming
        .map(|f| f.lines().filter(|l| l.starts_with("    ")).count())
        .collect();
    assert!(
        (1..=5).all(|n| items_seen.contains(&n)),
        "section counts seen while the title was done: {items_seen:?}"
    );

    // The last frame is the validated report, every line checked.
    let last = frames.last().expect("a last frame");
    assert!(last.starts_with("✓ title: Platform team Q3: faster billing, fewer incidents\n"));
    assert!(last.contains("    ✓ 5. Next quarter — Focus on the search rewrite"));
    assert!(
        last.contains("✓ score: 87\nvalidated after 2 attempt(s)\n"),
        "{last:?}"
    );
    assert!(!last.chars().any(|c| SPINNER.contains(&c)), "{last:?}");
}

#[tokio::test]
async fn without_a_terminal_only_notes_and_the_result_are_printed() {
    let (output, outcome) = render(false).await;
    assert!(outcome.is_ok());
    assert!(!output.contains('\x1b'), "escape codes in {output:?}");
    assert_eq!(output.lines().count(), 1 + 9 + 1, "{output}");
    assert!(output.starts_with("↻ starting over (attempt 2)"));
}

#[test]
fn lines_are_cut_to_the_width() {
    let view = serde_json::json!({
        "title": "a very long title that goes on",
        "$state": {"title": "streaming"},
    });
    let lines = render::lines(&view, 0, 12);
    assert_eq!(lines[0], "⠋ title: a …");
    assert_eq!(lines[1], "· summary: ");
    assert_eq!(lines.last().map(String::as_str), Some("· score: "));
}
