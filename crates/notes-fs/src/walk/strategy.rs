//! Which walker `find` runs: the one place that chooses, next to the reasons, measured on a
//! synthetic tree against fd 10 (docs/benchmarks.md, `cargo bench --bench find`).

use super::FindOptions;

/// A walker of [`find_each`](super::find_each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// Linux, links not followed, ignore files applied or several threads: the getdents
    /// walker on `threads` threads (one thread is fine too). It opens each directory relative
    /// to its parent's handle and reads it with one reused `getdents64` buffer: 4 system calls
    /// per directory instead of the 5 of `opendir`, and threads that share work only with a
    /// waiting thread. Measured 0.69–0.75× fd's time respecting ignores, 0.63–0.75× with `-u`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Getdents,
    /// Linux, links not followed, everything, one thread: the serial getdents walker, in
    /// walkdir's order (a directory, then its contents), so `-j 1` prints the same order in
    /// every run; the fewest system calls of the serial walkers.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    GetdentsSerial,
    /// Everything on one thread, links followed (or not Linux): walkdir, the fastest serial
    /// walker measured, with its loop check; there is no ignore file to read.
    Walkdir,
    /// The rest (ignore files with links followed, or not Linux; parallel elsewhere): the
    /// `ignore` crate, which fd itself uses, serial or parallel.
    Ignore,
}

impl Strategy {
    /// The walker for `options` on `threads` threads (already resolved from 0).
    pub(super) fn choose(options: &FindOptions, threads: usize) -> Self {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if !options.follow_links {
            // Following links keeps the loop-checked walkers below.
            return if options.unrestricted && threads == 1 {
                Self::GetdentsSerial
            } else {
                Self::Getdents
            };
        }
        if options.unrestricted && threads == 1 {
            Self::Walkdir
        } else {
            Self::Ignore
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_followed_leave_the_getdents_walkers() {
        let follow = FindOptions {
            follow_links: true,
            unrestricted: true,
            ..Default::default()
        };
        assert_eq!(Strategy::choose(&follow, 1), Strategy::Walkdir);
        assert_eq!(Strategy::choose(&follow, 2), Strategy::Ignore);
        #[cfg(target_os = "linux")]
        {
            let plain = FindOptions::default();
            assert_eq!(Strategy::choose(&plain, 1), Strategy::Getdents);
            let all = FindOptions {
                unrestricted: true,
                ..Default::default()
            };
            assert_eq!(Strategy::choose(&all, 1), Strategy::GetdentsSerial);
            assert_eq!(Strategy::choose(&all, 4), Strategy::Getdents);
        }
    }
}
