//! Where `notes` writes: buffered stdout, colour choice, JSON, and closed pipes.

use std::io::{self, Write};

use anstyle::Style;

/// The `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    /// Colour when the stream is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl From<ColorWhen> for clap::ColorChoice {
    fn from(when: ColorWhen) -> Self {
        match when {
            ColorWhen::Auto => clap::ColorChoice::Auto,
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
        }
    }
}

/// Applies `--color` (and, through `auto`, NO_COLOR and terminal detection) to all output.
pub(crate) fn init_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// True when the error comes from writing to a closed pipe (`notes … | head`).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Standard output for one command: buffered, colour-aware, with the `--json` switch.
pub(crate) struct Out {
    stream: io::BufWriter<anstream::AutoStream<io::Stdout>>,
    /// Whether `--json` was given.
    pub(crate) json: bool,
}

impl Out {
    pub(crate) fn stdout(json: bool) -> Self {
        Self {
            stream: io::BufWriter::new(anstream::stdout()),
            json,
        }
    }

    /// Writes a section heading (bold when colour is on).
    pub(crate) fn heading(&mut self, text: &str) -> io::Result<()> {
        let style = Style::new().bold();
        writeln!(self, "{style}{text}{style:#}")
    }

    /// Writes `value` as pretty JSON followed by a newline.
    pub(crate) fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> anyhow::Result<()> {
        // serde_json keeps a write error only inside its own error type, where the closed-pipe
        // check cannot see it: turn it back into the `io::Error` it was.
        serde_json::to_writer_pretty(&mut *self, value).map_err(io::Error::from)?;
        writeln!(self)?;
        Ok(())
    }
}

/// A failed write to standard output, named as such (`error: cannot write to standard
/// output: No space left on device`), with the original kind kept for the closed-pipe check.
pub(crate) fn stdout_error(err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot write to standard output: {err}"),
    )
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf).map_err(stdout_error)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush().map_err(stdout_error)
    }
}

/// Whether `-q` was given: then [`warn`] prints nothing.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Applies `-q` to [`warn`].
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `-q` was given.
pub(crate) fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints `warning: <text>` on stderr (yellow when colour is on), unless `-q` was given. A
/// closed stderr must not stop the command, so write errors are ignored.
pub(crate) fn warn(warning: &impl std::fmt::Display) {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let style = Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    let _ = writeln!(anstream::stderr(), "{style}warning:{style:#} {warning}");
}
