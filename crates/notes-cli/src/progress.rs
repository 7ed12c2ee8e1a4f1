//! The progress line of a walk (`notes find`) on stderr: shown only once the walk has run for
//! a noticeable time, redrawn a few times a second whatever the rate of entries, then cleared.
//!
//! The walk only bumps two atomic counters; a thread of its own draws them. Redrawing from the
//! walk (on every match, as it once did) wrote thousands of lines a second to the terminal and
//! slowed the walk threefold.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a walk runs before its progress line is shown: a quick walk draws nothing.
pub(crate) const SHOW_AFTER: Duration = Duration::from_millis(250);

/// How often the line is redrawn once shown (and [`Counts::flush_due`] is raised).
pub(crate) const EVERY: Duration = Duration::from_millis(100);

/// The counts of a walk, bumped by the walk and read by the drawing thread.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    seen: AtomicU64,
    matches: AtomicU64,
    due: AtomicBool,
}

impl Counts {
    /// Counts one entry, a match or not.
    pub(crate) fn entry(&self, matched: bool) {
        // Relaxed: the counts are only displayed, and only one thread writes them.
        self.seen.fetch_add(1, Ordering::Relaxed);
        if matched {
            self.matches.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// True once every [`EVERY`] while the line is drawn (cleared by the call): the moment to
    /// flush output held back so that it is not written through the line.
    pub(crate) fn flush_due(&self) -> bool {
        self.due.load(Ordering::Relaxed) && self.due.swap(false, Ordering::Relaxed)
    }

    /// The line, e.g. `12,345 entries seen, 67 matches`.
    pub(crate) fn line(&self) -> String {
        format!(
            "{} entries seen, {} matches",
            HumanCount(self.seen.load(Ordering::Relaxed)),
            HumanCount(self.matches.load(Ordering::Relaxed))
        )
    }
}

/// A bar that draws nothing yet, for the lines of [`draw`].
pub(crate) fn bar() -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
    bar
}

/// The frames of the spinner before the counts (indicatif's default spinner). It is part of
/// the message, so that one message is one draw: indicatif draws on each tick too.
const SPINNER: [char; 8] = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];

/// Runs on its own thread while a walk runs, until `stop` is dropped or sent to: waits
/// [`SHOW_AFTER`], then moves `bar` to the draw target `target()` and redraws `counts` on it
/// every [`EVERY`]. Raises [`Counts::flush_due`] every [`EVERY`] from the start. The caller
/// clears the bar when the walk is done.
pub(crate) fn draw(
    bar: &ProgressBar,
    counts: &Counts,
    stop: &mpsc::Receiver<()>,
    target: impl FnOnce() -> ProgressDrawTarget,
) {
    let start = Instant::now();
    let mut target = Some(target);
    let mut frames = SPINNER.iter().cycle();
    loop {
        match stop.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        counts.due.store(true, Ordering::Relaxed);
        if start.elapsed() < SHOW_AFTER {
            continue;
        }
        if let Some(target) = target.take() {
            bar.set_draw_target(target());
        }
        let frame = frames.next().unwrap_or(&' ');
        bar.set_message(format!("{frame} {}", counts.line()));
    }
}

/// The draw target on stderr, limited to one redraw per [`EVERY`].
pub(crate) fn stderr() -> ProgressDrawTarget {
    let hz = u8::try_from(1000 / EVERY.as_millis()).unwrap_or(10);
    ProgressDrawTarget::stderr_with_hz(hz)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    /// A terminal that records what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl Recorder {
        fn lines(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Recorder {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            // The padding to the terminal's width comes as a write of its own.
            if !s.trim().is_empty() {
                self.0.lock().unwrap().push(s.to_owned());
            }
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A walk of `duration` counting an entry every few microseconds (a match in ten), drawn
    /// on a recorder: what was drawn, and how many flushes were due.
    fn walk(duration: Duration) -> (Vec<String>, usize) {
        let bar = bar();
        let counts = Counts::default();
        let recorder = Recorder::default();
        let (stop, stopped) = mpsc::channel();
        let mut flushes = 0;
        std::thread::scope(|scope| {
            let target = || {
                let hz = u8::try_from(1000 / EVERY.as_millis()).unwrap();
                ProgressDrawTarget::term_like_with_hz(Box::new(recorder.clone()), hz)
            };
            let (bar, counts) = (&bar, &counts);
            scope.spawn(move || draw(bar, counts, &stopped, target));
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < duration {
                counts.entry(n.is_multiple_of(10));
                n += 1;
                flushes += usize::from(counts.flush_due());
                std::thread::sleep(Duration::from_micros(20));
            }
            drop(stop);
        });
        bar.finish_and_clear();
        (recorder.lines(), flushes)
    }

    #[test]
    fn a_quick_walk_draws_nothing() {
        let (drawn, _) = walk(SHOW_AFTER / 3);
        assert!(drawn.is_empty(), "{drawn:?}");
    }

    #[test]
    fn a_long_walk_is_drawn_a_few_times_a_second_with_whole_counts() {
        let duration = SHOW_AFTER + Duration::from_millis(1000);
        let (drawn, flushes) = walk(duration);
        // One draw per EVERY after SHOW_AFTER: about 10, with slack for a slow machine (and
        // far from one per entry or per match).
        assert!((3..=15).contains(&drawn.len()), "{drawn:?}");
        for line in &drawn {
            let (seen, rest) = line
                .split_once(" entries seen, ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let seen = seen.rsplit(' ').next().unwrap();
            let matches = rest.strip_suffix(" matches").unwrap();
            for count in [seen, matches] {
                assert!(
                    !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit() || b == b','),
                    "{line:?}"
                );
            }
        }
        assert!((5..=20).contains(&flushes), "{flushes}");
    }

    #[test]
    fn the_line_has_both_counts_from_the_start() {
        let counts = Counts::default();
        assert_eq!(counts.line(), "0 entries seen, 0 matches");
        for i in 0..12_345 {
            counts.entry(i < 67);
        }
        assert_eq!(counts.line(), "12,345 entries seen, 67 matches");
    }
}
