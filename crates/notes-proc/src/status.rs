//! How a process ended, and the signals used to end one.

use std::fmt;

/// How a process ended: an exit code, or (on Unix) the signal that killed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// It exited with this code (0 is success).
    Code(i32),
    /// It was killed by this signal number (Unix only).
    Signal(i32),
}

impl Status {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Status::Code(0)
    }

    /// The exit status a shell (or GNU `timeout`) reports for it: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            Status::Code(code) => code,
            Status::Signal(signal) => 128 + signal,
        }
    }

    pub(crate) fn from_std(status: std::process::ExitStatus) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = status.signal() {
                return Status::Signal(signal);
            }
        }
        // Off Unix every status has a code; on Unix a status without a signal has one too
        // (`wait` only reports terminated processes), so -1 is never reached in practice.
        Status::Code(status.code().unwrap_or(-1))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Status::Code(code) => write!(f, "exit status {code}"),
            Status::Signal(signal) => {
                write!(f, "killed by signal {signal}")?;
                #[cfg(unix)]
                if let Ok(sig) = nix::sys::signal::Signal::try_from(signal) {
                    write!(f, " ({})", sig.as_str())?;
                }
                Ok(())
            }
        }
    }
}

/// A signal to end a process with, by its portable name.
///
/// On Windows there are no signals: every variant terminates the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGHUP`: the terminal went away.
    Hup,
    /// `SIGINT`: Ctrl-C.
    Int,
    /// `SIGQUIT`: Ctrl-\.
    Quit,
    /// `SIGKILL`: cannot be caught; the process ends at once.
    Kill,
    /// `SIGUSR1`.
    Usr1,
    /// `SIGUSR2`.
    Usr2,
    /// `SIGALRM`.
    Alrm,
    /// `SIGTERM`: please exit (the default of `kill` and GNU `timeout`).
    Term,
    /// Any other signal of this system, by number (Unix): `STOP`, `CONT`, `PIPE`, `WINCH`, ...
    /// as GNU `timeout -s` accepts them. Parsing gives the named variants above for their
    /// signals, this one for the rest; on Windows it terminates the process as the others do.
    Other(i32),
}

const NAMES: [(Signal, &str); 8] = [
    (Signal::Hup, "HUP"),
    (Signal::Int, "INT"),
    (Signal::Quit, "QUIT"),
    (Signal::Kill, "KILL"),
    (Signal::Usr1, "USR1"),
    (Signal::Usr2, "USR2"),
    (Signal::Alrm, "ALRM"),
    (Signal::Term, "TERM"),
];

impl Signal {
    /// The name without the `SIG` prefix: `"TERM"`.
    pub fn name(self) -> &'static str {
        #[cfg(unix)]
        if let Signal::Other(number) = self {
            return nix::sys::signal::Signal::try_from(number)
                .map_or("?", |sig| sig.as_str().trim_start_matches("SIG"));
        }
        NAMES
            .iter()
            .find(|(signal, _)| *signal == self)
            .map_or("KILL", |(_, name)| name)
    }

    #[cfg(unix)]
    pub(crate) fn to_nix(self) -> nix::sys::signal::Signal {
        use nix::sys::signal::Signal as S;
        match self {
            Signal::Hup => S::SIGHUP,
            Signal::Int => S::SIGINT,
            Signal::Quit => S::SIGQUIT,
            Signal::Kill => S::SIGKILL,
            Signal::Usr1 => S::SIGUSR1,
            Signal::Usr2 => S::SIGUSR2,
            Signal::Alrm => S::SIGALRM,
            Signal::Term => S::SIGTERM,
            // Only parsing makes an `Other`, and only of a signal nix knows.
            Signal::Other(number) => S::try_from(number).unwrap_or(S::SIGTERM),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Signal {
    /// The signal named `text`: `TERM`, `SIGTERM`, `term` or (on Unix) `15`; `None` for any
    /// other text. (`FromStr`, in `error.rs`, turns `None` into [`Error::UnknownSignal`].)
    ///
    /// [`Error::UnknownSignal`]: crate::Error::UnknownSignal
    pub(crate) fn from_name(text: &str) -> Option<Self> {
        let upper = text.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some((signal, _)) = NAMES.iter().find(|(_, n)| *n == name) {
            return Some(*signal);
        }
        #[cfg(unix)]
        {
            use std::str::FromStr;
            let sig = match name.parse::<i32>() {
                Ok(number) => nix::sys::signal::Signal::try_from(number).ok(),
                // GNU's other spellings of two of them.
                Err(_) => match name {
                    "CLD" => Some(nix::sys::signal::Signal::SIGCHLD),
                    "IOT" => Some(nix::sys::signal::Signal::SIGABRT),
                    _ => nix::sys::signal::Signal::from_str(&format!("SIG{name}")).ok(),
                },
            }?;
            Some(
                NAMES
                    .iter()
                    .find(|(s, _)| s.to_nix() == sig)
                    .map_or(Signal::Other(sig as i32), |(signal, _)| *signal),
            )
        }
        #[cfg(not(unix))]
        None
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::Error;

    #[test]
    fn signals_parse_by_name_prefix_case_and_number() {
        for (text, expected) in [
            ("TERM", Signal::Term),
            ("SIGTERM", Signal::Term),
            ("kill", Signal::Kill),
            ("SigInt", Signal::Int),
            ("usr1", Signal::Usr1),
        ] {
            assert_eq!(text.parse::<Signal>().ok(), Some(expected), "{text}");
        }
        #[cfg(unix)]
        {
            assert_eq!("9".parse::<Signal>().ok(), Some(Signal::Kill));
            assert_eq!("15".parse::<Signal>().ok(), Some(Signal::Term));
        }
        let err = "TERMINATE".parse::<Signal>().unwrap_err();
        assert!(
            matches!(&err, Error::UnknownSignal { text } if text == "TERMINATE"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "unknown signal \"TERMINATE\": expected a signal's name (HUP, INT, QUIT, KILL, USR1, USR2, ALRM, TERM, STOP, CONT, ...; with or without SIG) or, on Unix, its number"
        );
        // Defect D6: every other signal GNU timeout takes, by name or number.
        #[cfg(unix)]
        for (text, number) in [
            ("STOP", 19),
            ("SIGCONT", 18),
            ("pipe", 13),
            ("WINCH", 28),
            ("CLD", 17),
            ("13", 13),
            ("19", 19),
        ] {
            let signal: Signal = text.parse().unwrap();
            assert_eq!(signal, Signal::Other(number), "{text}");
            assert_eq!(signal.to_nix() as i32, number);
        }
        #[cfg(unix)]
        assert_eq!(Signal::Other(19).name(), "STOP");
        assert!("".parse::<Signal>().is_err());
        assert!("SIG".parse::<Signal>().is_err());
    }

    #[test]
    fn the_parse_error_suits_clap_value_parsers() {
        // clap's `FromStr` value parsers need `Err: Into<Box<dyn Error + Send + Sync + 'static>>`.
        fn boxable<E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>>() {}
        boxable::<<Signal as FromStr>::Err>();
    }

    #[test]
    fn names_round_trip() {
        for (signal, name) in NAMES {
            assert_eq!(signal.name(), name);
            assert_eq!(name.parse::<Signal>().ok(), Some(signal));
        }
    }

    #[test]
    fn statuses_read_like_a_shell() {
        assert_eq!(Status::Code(2).to_string(), "exit status 2");
        assert!(Status::Code(0).success());
        assert!(!Status::Signal(9).success());
        assert_eq!(Status::Signal(9).shell_code(), 137);
        #[cfg(unix)]
        assert_eq!(
            Status::Signal(9).to_string(),
            "killed by signal 9 (SIGKILL)"
        );
    }
}
