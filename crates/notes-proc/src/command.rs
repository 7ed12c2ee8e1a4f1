//! Naming a command in messages, and telling a missing program from other spawn failures.

use std::io;
use std::path::Path;
use std::process::Command;

use crate::Error;

/// The command line as a person would type it, for messages: the program and arguments joined
/// with spaces, each one that is empty or holds a space, a quote or a shell metacharacter put in
/// single quotes (as a POSIX shell reads it back).
///
/// ```
/// let mut cmd = std::process::Command::new("sh");
/// cmd.args(["-c", "echo it's"]);
/// assert_eq!(notes_proc::command_line(&cmd), r"sh -c 'echo it'\''s'");
/// ```
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| quote(&arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && !arg.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '\'' | '"' | '\\' | '$' | '`' | ';' | '&' | '|' | '<' | '>' | '*' | '?'
                )
        });
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The error for a failed `spawn`: [`Error::NotFound`] when the program does not exist.
pub(crate) fn spawn_error(cmd: &Command, command: &str, source: io::Error) -> Error {
    let program = Path::new(cmd.get_program());
    if source.kind() == io::ErrorKind::NotFound && program.is_file() {
        // The kernel says "No such file or directory" for a script whose `#!` interpreter is
        // missing too: say which file is missing.
        Error::Spawn {
            command: command.to_owned(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} exists, but the interpreter on its #! line was not found",
                    program.display()
                ),
            ),
        }
    } else if source.kind() == io::ErrorKind::NotFound {
        Error::NotFound {
            command: command.to_owned(),
            program: program.to_string_lossy().into_owned(),
        }
    } else {
        Error::Spawn {
            command: command.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str], expected: &str) {
        let mut cmd = Command::new(args[0]);
        cmd.args(&args[1..]);
        assert_eq!(command_line(&cmd), expected);
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        check(&["ls", "/dev/serial/by-id/"], "ls /dev/serial/by-id/");
        check(&["sh", "-c", "exit 3"], "sh -c 'exit 3'");
        check(&["echo", ""], "echo ''");
        check(&["echo", "it's"], r"echo 'it'\''s'");
    }
}
