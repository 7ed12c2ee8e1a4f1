//! Subcommands backed by `notes-proc`: `notes run`, `notes timeout`, `notes spawn`.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::cli::proc::{RunArgs, SpawnArgs, TimeoutArgs};
use crate::exit::{CANNOT_RUN, Exit, FAILED, NOT_FOUND, TIMED_OUT};
use crate::output::Out;

/// `notes run [--keep-empty] [--kill-leftovers] -- CMD [ARGS...]`: passes the command's
/// output on as it comes, byte for byte (without its empty lines unless `--keep-empty`; as a
/// JSON array of lines with `--json`); a failure is an error with the command's status.
pub(crate) fn run(args: &RunArgs, out: &mut Out) -> anyhow::Result<()> {
    let forward = notes_proc::Forward::new();
    forward_signals(&forward)?;
    // No time limit: the limit only brings the signal forwarding and the helper that takes
    // the command's tree down with `notes` if `notes` is killed.
    // Standard input is passed on, as `subprocess.run` and `check_output` do.
    let limit = notes_proc::Limit::new(Duration::MAX)
        .kill_leftovers(args.kill_leftovers)
        .inherit_stdin(true)
        .forward(&forward);
    let mut cmd = command(&args.command);
    if args.keep_empty && !out.json {
        // Nothing to filter: the command gets notes' own streams (no pipe, no copy), so what
        // it leaves running writes there directly, as under GNU timeout.
        out.flush()?;
        let outcome = notes_proc::run_with_timeout(&mut cmd, &limit.capture(false))?;
        return failed_unless_success(&args.command, outcome.status);
    }
    // The command's bytes go straight to the descriptors, not through `Out` (which would strip
    // escape sequences when not writing to a terminal).
    out.flush()?;
    let raw = |fd: std::os::fd::BorrowedFd<'_>, name: &str| {
        fd.try_clone_to_owned()
            .map(std::fs::File::from)
            .with_context(|| format!("cannot pass the command's output on to {name}"))
    };
    use std::os::fd::AsFd;
    let stdout = raw(std::io::stdout().as_fd(), "standard output")?;
    let stderr = raw(std::io::stderr().as_fd(), "standard error")?;
    let json = out
        .json
        .then(|| JsonLines::new(stdout.try_clone(), args.keep_empty));
    let writer: Box<dyn Write + Send> = match &json {
        Some(json) => Box::new(json.clone()),
        None => Box::new(SkipEmptyLines::new(std::io::BufWriter::new(stdout))),
    };
    let outcome = match notes_proc::run_streaming(&mut cmd, &limit, writer, stderr) {
        Ok(outcome) => outcome,
        Err(notes_proc::Error::Io {
            command, source, ..
        }) if source.kind() == std::io::ErrorKind::InvalidData => {
            anyhow::bail!("command {command:?} {source}");
        }
        Err(err) => return Err(err.into()),
    };
    failed_unless_success(&args.command, outcome.status)?;
    if let Some(json) = json {
        json.finish()?;
    }
    Ok(())
}

/// The error of `notes run` for a command that failed. What it said on stderr has been passed
/// on already: the message does not repeat it.
fn failed_unless_success(argv: &[OsString], status: notes_proc::Status) -> anyhow::Result<()> {
    if !status.success() {
        anyhow::bail!(
            "command {:?} failed: {}",
            notes_proc::command_line(&command(argv)),
            status
        );
    }
    Ok(())
}

/// Passes bytes on, leaving out empty lines (a newline at the start or after a newline).
struct SkipEmptyLines<W> {
    out: W,
    at_line_start: bool,
}

impl<W: Write> SkipEmptyLines<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            at_line_start: true,
        }
    }
}

impl<W: Write> Write for SkipEmptyLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // `from`: the start of what is still to be written; `at`: where the search goes on.
        let (mut from, mut at) = (0, 0);
        while let Some(offset) = buf[at..].iter().position(|&b| b == b'\n') {
            let newline = at + offset;
            let line_start = if at == 0 { self.at_line_start } else { true };
            if newline == at && line_start {
                // An empty line: write what came before, skip its newline.
                self.out.write_all(&buf[from..newline])?;
                from = newline + 1;
            }
            at = newline + 1;
        }
        self.at_line_start = if at < buf.len() {
            false
        } else {
            at > 0 || self.at_line_start
        };
        self.out.write_all(&buf[from..])?;
        // One write downstream per chunk read from the command, as it comes.
        self.out.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Streams a command's output as the pretty JSON array of its lines (`serde_json`'s
/// `to_writer_pretty` of a `Vec<String>`), without holding a line in memory: lines end at
/// `\n` (a `\r` before it is dropped), empty ones are left out unless `keep_empty`, and bytes
/// that are not UTF-8 are an error. Shared, so that [`finish`](Self::finish) can close the
/// array once the command is done.
#[derive(Clone)]
struct JsonLines(std::sync::Arc<std::sync::Mutex<JsonState>>);

struct JsonState {
    /// Buffered: a line takes three pieces (quote, text, quote), and the buffer is flushed
    /// once per chunk of output, so memory stays at the buffer's size.
    out: std::io::Result<std::io::BufWriter<std::fs::File>>,
    keep_empty: bool,
    /// Lines written so far.
    lines: u64,
    in_line: bool,
    /// A `\r` at the end of the last chunk: dropped if a `\n` follows.
    pending_cr: bool,
    /// The start of a UTF-8 sequence cut at the end of the last chunk.
    carry: Vec<u8>,
    /// Bytes of output taken so far (for the offset in the error).
    offset: u64,
}

impl JsonLines {
    fn new(out: std::io::Result<std::fs::File>, keep_empty: bool) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(JsonState {
            out: out.map(|file| std::io::BufWriter::with_capacity(64 * 1024, file)),
            keep_empty,
            lines: 0,
            in_line: false,
            pending_cr: false,
            carry: Vec::new(),
            offset: 0,
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, JsonState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the array.
    fn finish(self) -> anyhow::Result<()> {
        let mut state = self.state();
        if std::mem::take(&mut state.pending_cr) {
            state.text(b"\r")?;
        }
        state.end_line(false)?;
        let end: &[u8] = if state.lines == 0 { b"[]\n" } else { b"\n]\n" };
        state.emit(end)?;
        if let Ok(out) = &mut state.out {
            out.flush()?;
        }
        Ok(())
    }
}

impl JsonState {
    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Ok(out) => out.write_all(bytes),
            Err(err) => Err(std::io::Error::new(err.kind(), err.to_string())),
        }
    }

    fn open_line(&mut self) -> std::io::Result<()> {
        let start: &[u8] = if self.lines == 0 {
            b"[\n  \""
        } else {
            b",\n  \""
        };
        self.emit(start)?;
        self.lines += 1;
        self.in_line = true;
        Ok(())
    }

    /// The text of a line (no newline in it), escaped.
    fn text(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        // Only a UTF-8 sequence cut at the end of the last chunk is copied; the rest is
        // checked and escaped where it lies.
        let carried = std::mem::take(&mut self.carry);
        let data: std::borrow::Cow<'_, [u8]> = if carried.is_empty() {
            std::borrow::Cow::Borrowed(bytes)
        } else {
            let mut joined = carried;
            joined.extend_from_slice(bytes);
            std::borrow::Cow::Owned(joined)
        };
        let start = self.offset + bytes.len() as u64 - data.len() as u64;
        self.offset += bytes.len() as u64;
        let (valid, rest) = match std::str::from_utf8(&data) {
            Ok(text) => (text, &[][..]),
            Err(err) => {
                let (good, rest) = data.split_at(err.valid_up_to());
                if err.error_len().is_some() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "printed bytes that are not UTF-8 (first bad byte at offset {}); --json needs text",
                            start + good.len() as u64
                        ),
                    ));
                }
                (std::str::from_utf8(good).unwrap_or_default(), rest)
            }
        };
        if !self.in_line {
            self.open_line()?;
        }
        if valid
            .bytes()
            .any(|b| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f)
        {
            let quoted = serde_json::to_string(valid).map_err(std::io::Error::from)?;
            self.emit(&quoted.as_bytes()[1..quoted.len() - 1])?;
        } else {
            // Nothing to escape (serde_json escapes only these): the text as it is.
            self.emit(valid.as_bytes())?;
        }
        self.carry = rest.to_vec();
        Ok(())
    }

    /// A newline (`newline`) or the end of the output.
    fn end_line(&mut self, newline: bool) -> std::io::Result<()> {
        if !self.carry.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "printed bytes that are not UTF-8 (first bad byte at offset {}); --json needs text",
                    self.offset - self.carry.len() as u64
                ),
            ));
        }
        if newline {
            self.offset += 1;
        }
        if self.in_line {
            self.emit(b"\"")?;
            self.in_line = false;
        } else if newline && self.keep_empty {
            self.open_line()?;
            self.emit(b"\"")?;
            self.in_line = false;
        }
        Ok(())
    }
}

impl Write for JsonLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state = self.state();
        let mut segments = buf.split(|&b| b == b'\n').peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            if std::mem::take(&mut state.pending_cr) {
                if segment.is_empty() && !last {
                    // "\r\n": the \r goes with the newline.
                    state.offset += 1;
                } else {
                    state.text(b"\r")?;
                }
            }
            let (body, cr) = match segment.split_last() {
                Some((b'\r', body)) => (body, true),
                _ => (segment, false),
            };
            state.text(body)?;
            if last {
                state.pending_cr = cr;
            } else {
                // A \r right before the newline is dropped, as `str::lines` does.
                if cr {
                    state.offset += 1;
                }
                state.end_line(true)?;
            }
        }
        // One write downstream per chunk read from the command, as it comes.
        if let Ok(out) = &mut state.out {
            out.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.state().out {
            Ok(out) => out.flush(),
            Err(_) => Ok(()),
        }
    }
}

/// `notes timeout DURATION [--signal SIG] [--kill-after DURATION] -- CMD [ARGS...]`: exits
/// with the command's status, 124 when the deadline ended it.
pub(crate) fn timeout(args: &TimeoutArgs) -> anyhow::Result<()> {
    let forward = notes_proc::Forward::new();
    forward_signals(&forward)?;
    // As in GNU timeout, a duration of 0 disables its timeout.
    let never_if_zero = |d: Duration| if d.is_zero() { Duration::MAX } else { d };
    let limit = notes_proc::Limit::new(never_if_zero(args.duration))
        .signal(args.signal)
        .kill_after(never_if_zero(args.kill_after))
        .foreground(args.foreground)
        .kill_leftovers(args.kill_leftovers)
        .forward(&forward)
        .capture(false);
    let outcome = match notes_proc::run_with_timeout(&mut command(&args.command), &limit) {
        Ok(outcome) => outcome,
        Err(err) => {
            let code = match err {
                notes_proc::Error::NotFound { .. } => NOT_FOUND,
                // `timeout 1 ""`: GNU's execvp fails with ENOENT, 127.
                notes_proc::Error::EmptyCommand => NOT_FOUND,
                // A script whose `#!` interpreter is missing: 127 too, as in GNU timeout.
                notes_proc::Error::Spawn { ref source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    NOT_FOUND
                }
                notes_proc::Error::Spawn { .. } => CANNOT_RUN,
                _ => FAILED,
            };
            return Err(Exit {
                code,
                cause: Some(err.into()),
            }
            .into());
        }
    };
    if outcome.timed_out && outcome.status == notes_proc::Status::Signal(9) && !args.foreground {
        // The deadline ended in KILL (`-s KILL`, or `-k`): GNU timeout sends it to its own
        // process group, itself included, so it dies of SIGKILL (137 to a shell); so do we,
        // now that the tree is gone.
        die_of_sigkill();
    }
    let code = if outcome.timed_out
        && !args.preserve_status
        // As GNU: a command killed by KILL at the deadline reports 137, not 124 (in the
        // foreground too, where GNU timeout does not kill itself).
        && outcome.status != notes_proc::Status::Signal(9)
    {
        TIMED_OUT
    } else {
        // Exit codes above 255 exist only on Windows; report them as a plain failure.
        u8::try_from(outcome.status.shell_code()).unwrap_or(1)
    };
    if code == 0 {
        Ok(())
    } else {
        Err(Exit { code, cause: None }.into())
    }
}

/// Ends this process with `SIGKILL`, as GNU timeout ends when it sends KILL to its group.
#[cfg(unix)]
fn die_of_sigkill() {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = signal_hook::low_level::raise(signal_hook::consts::signal::SIGKILL);
}

#[cfg(not(unix))]
fn die_of_sigkill() {}

/// Passes the INT, QUIT, HUP and TERM this process gets on to the command, as GNU timeout
/// does: the command runs in a process group of its own, which neither Ctrl-C at the terminal
/// nor `kill` of this process reaches. The handler thread lives until `notes` exits.
#[cfg(unix)]
fn forward_signals(forward: &notes_proc::Forward) -> anyhow::Result<()> {
    use notes_proc::Signal;
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGQUIT, SIGHUP, SIGTERM])
        .context("cannot install the signal handlers")?;
    let forward = forward.clone();
    std::thread::Builder::new()
        .name("notes-signals".into())
        .spawn(move || {
            for raw in signals.forever() {
                let signal = match raw {
                    SIGINT => Signal::Int,
                    SIGQUIT => Signal::Quit,
                    SIGHUP => Signal::Hup,
                    _ => Signal::Term,
                };
                forward.signal(signal);
            }
        })
        .context("cannot start the signal handler thread")?;
    Ok(())
}

/// Windows has Ctrl-C only: pass it on.
#[cfg(not(unix))]
fn forward_signals(forward: &notes_proc::Forward) -> anyhow::Result<()> {
    let forward = forward.clone();
    ctrlc::set_handler(move || forward.signal(notes_proc::Signal::Int))
        .context("cannot install the Ctrl-C handler")
}

/// `notes spawn [--output FILE] -- CMD [ARGS...]`: starts it detached, prints its pid.
///
/// Without `--output`, each of the command's output streams is notes' own if that is a
/// terminal, else /dev/null: a detached command that inherited a pipe would hold it open, and
/// `pid=$(notes spawn -- CMD)` would wait for it to end.
pub(crate) fn spawn(args: &SpawnArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut cmd = command(&args.command);
    let (stdout, stderr) = if let Some(path) = &args.output {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for the output", path.display()))?;
        let copy = file
            .try_clone()
            .with_context(|| format!("cannot open {} for the output", path.display()))?;
        (Stdio::from(file), Stdio::from(copy))
    } else {
        let pass_on_if_terminal = |terminal: bool| {
            if terminal {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        (
            pass_on_if_terminal(std::io::stdout().is_terminal()),
            pass_on_if_terminal(std::io::stderr().is_terminal()),
        )
    };
    // A detached process has no terminal to read from.
    let child = notes_proc::spawn_detached(&mut cmd, Stdio::null(), stdout, stderr)?;
    if out.json {
        return out.json(&serde_json::json!({ "pid": child.pid() }));
    }
    writeln!(out, "{}", child.pid())?;
    Ok(())
}

fn command(argv: &[OsString]) -> Command {
    // clap guarantees at least one element (`required = true`).
    let (program, args) = argv.split_first().map_or_else(
        || (OsString::new(), &[][..]),
        |(program, args)| (program.clone(), args),
    );
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{JsonLines, SkipEmptyLines};

    /// Feeds `input` to a fresh writer in two chunks cut at `cut`.
    fn skip_empty(input: &[u8], cut: usize) -> Vec<u8> {
        let mut out = SkipEmptyLines::new(Vec::new());
        out.write_all(&input[..cut]).unwrap();
        out.write_all(&input[cut..]).unwrap();
        out.out
    }

    #[test]
    fn empty_lines_are_skipped_wherever_the_chunks_are_cut() {
        let input = b"\n\na\r\n\n\nb\n\n\0\x1b[0m\n\nc";
        for cut in 0..=input.len() {
            assert_eq!(
                skip_empty(input, cut),
                b"a\r\nb\n\0\x1b[0m\nc",
                "cut at {cut}"
            );
        }
    }

    fn json(input: &[u8], cut: usize, keep_empty: bool) -> Result<Vec<String>, String> {
        let path = std::env::temp_dir().join(format!(
            "notes-json-lines-{}-{cut}-{keep_empty}",
            std::process::id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        let lines = JsonLines::new(Ok(file), keep_empty);
        let mut writer = lines.clone();
        let written = writer
            .write_all(&input[..cut])
            .and_then(|()| writer.write_all(&input[cut..]))
            .map_err(|err| err.to_string())
            .and_then(|()| lines.finish().map_err(|err| err.to_string()));
        let text = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        written?;
        Ok(serde_json::from_slice(&text).unwrap())
    }

    #[test]
    fn json_lines_match_str_lines_wherever_the_chunks_are_cut() {
        let input = "a\n\nb\r\nc\u{e9}\u{1F600}\r\r\n\"q\"\\\n\r";
        let all: Vec<&str> = input.lines().collect();
        let non_empty: Vec<&str> = all.iter().copied().filter(|l| !l.is_empty()).collect();
        for cut in 0..=input.len() {
            assert_eq!(
                json(input.as_bytes(), cut, true).unwrap(),
                all,
                "cut at {cut}"
            );
            assert_eq!(
                json(input.as_bytes(), cut, false).unwrap(),
                non_empty,
                "cut at {cut}"
            );
        }
        let bad = b"ok\nx\xff";
        for cut in 0..=bad.len() {
            let err = json(bad, cut, false).unwrap_err();
            assert!(
                err.contains("first bad byte at offset 4"),
                "cut at {cut}: {err}"
            );
        }
        // A sequence cut short at the end is an error too.
        assert!(json(b"\xc3", 0, false).unwrap_err().contains("offset 0"));
    }
}
