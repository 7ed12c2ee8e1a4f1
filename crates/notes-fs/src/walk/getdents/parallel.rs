//! The parallel walk on Linux, for both modes of `find` (links not followed): the fast
//! `getdents64` reading of [`serial`](super::serial) on several threads sharing a stack of
//! directories, with the ignore rules of `ignore`'s `WalkBuilder` applied on the way.
//!
//! The rules are `ignore`'s own matchers ([`Gitignore`]), read and chained as its walker does
//! (`.ignore` over `.gitignore` over `.git/info/exclude` over the global gitignore, gitignores
//! only inside a repository, the root's parent directories included, hidden entries skipped
//! unless whitelisted), so the results are the same (a test compares them on tricky trees).
//! What is faster: a directory's listing says whether it holds `.gitignore`, `.ignore` or
//! `.git`, so nothing is probed that is not there, and directories are opened relative to
//! their parent's descriptor without `opendir`'s `fstat`.
//!
//! Entries reach the caller's `visit` on the caller's thread, one directory at a time: the
//! caller walks too, and between two directories it passes on what the other threads sent.
//!
//! Each thread keeps the subdirectories it finds on its own stack and hands half of them to
//! the shared stack only when another thread is waiting for work, so a busy walk takes no lock
//! and makes no futex call per directory (sharing every directory through the locked stack, and
//! waking the condition variable each time, cost about a third more system time).

use std::ffi::OsStr;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rustix::fs::{AtFlags, FileType, RawDir};

use super::serial::{OPEN_DEPTH, Visit, open};
use crate::walk::Warning;

/// What is filtered out of the walk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// Skip hidden entries (names starting with `.`) that no rule whitelists.
    pub(crate) hidden: bool,
    /// Read `.ignore`, `.gitignore`, git's exclude files and the global gitignore, in the
    /// root's parent directories too (`ignore`'s defaults with `require_git`).
    pub(crate) ignore_files: bool,
}

/// Walks everything under `root` that `filter` keeps (the root itself excluded, descending at
/// most `max_depth` levels) on `threads` threads, calling `visit` on this thread with
/// `Ok((path, is_dir))` for each entry and with a warning for each one that could not be read.
/// The order is the walk's, which varies from run to run with more than one thread.
pub(crate) fn walk(
    root: &Path,
    max_depth: Option<usize>,
    filter: Filter,
    threads: usize,
    visit: &mut Visit<'_>,
) {
    if max_depth == Some(0) {
        return;
    }
    let mut warnings = Vec::new();
    let rules = filter.ignore_files.then(|| Rules::new(root, &mut warnings));
    for warning in warnings {
        visit(Err(warning));
    }
    let shared = Shared {
        queue: Mutex::new(Queue {
            jobs: vec![Job {
                parent: None,
                path: root.to_path_buf(),
                depth: 0,
                level: rules.as_ref().and_then(|r| r.parents.clone()),
            }],
            busy: 0,
            quit: false,
        }),
        ready: Condvar::new(),
        sleepers: AtomicUsize::new(0),
        max_depth,
        filter,
        rules,
    };
    let (tx, rx) = mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        for _ in 1..threads.max(1) {
            let tx = tx.clone();
            let shared = &shared;
            scope.spawn(move || {
                let _quit = QuitOnPanic(shared);
                let mut worker = Worker::new(shared);
                while let Some(job) = worker.next() {
                    let batch = worker.run(job);
                    if tx.send(batch).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let _quit = QuitOnPanic(&shared);
        let mut worker = Worker::new(&shared);
        let mut path = Vec::new();
        while let Some(job) = worker.next() {
            let batch = worker.run(job);
            batch.visit(&mut path, visit);
            for batch in rx.try_iter() {
                batch.visit(&mut path, visit);
            }
        }
        for batch in rx {
            batch.visit(&mut path, visit);
        }
    });
}

/// One directory to read: its path, its parent's descriptor to open it relative to (if kept),
/// its depth (root = 0) and the rules that apply in its parent.
struct Job {
    parent: Option<Arc<OwnedFd>>,
    path: PathBuf,
    depth: usize,
    level: Option<Arc<Level>>,
}

/// The directories waiting to be read by whichever thread is free, and how many threads are
/// busy (reading a directory or holding some on their own stack): the walk is over when both
/// are zero.
struct Queue {
    jobs: Vec<Job>,
    busy: usize,
    quit: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Threads waiting for work (changed under the lock, read without it).
    sleepers: AtomicUsize,
    max_depth: Option<usize>,
    filter: Filter,
    rules: Option<Rules>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next directory from the shared stack, for a thread whose own stack is empty
    /// (`was_busy`: it has been working since it last took one); `None` when the walk is over.
    fn next(&self, was_busy: bool) -> Option<Job> {
        let mut queue = self.lock();
        if was_busy {
            queue.busy -= 1;
        }
        loop {
            if queue.quit {
                return None;
            }
            if let Some(job) = queue.jobs.pop() {
                queue.busy += 1;
                return Some(job);
            }
            if queue.busy == 0 {
                if self.sleepers.load(Ordering::Relaxed) > 0 {
                    self.ready.notify_all();
                }
                return None;
            }
            self.sleepers.fetch_add(1, Ordering::Relaxed);
            queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Hands the older half of a thread's own stack (the directories nearest the root, so the
    /// biggest subtrees) to the waiting threads.
    fn share(&self, own: &mut Vec<Job>) {
        let half = own.len() / 2;
        let mut queue = self.lock();
        queue.jobs.extend(own.drain(..half));
        self.ready.notify_all();
    }
}

/// Stops the other threads if this one panics, so none waits forever for its work.
struct QuitOnPanic<'a>(&'a Shared);

impl Drop for QuitOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().quit = true;
            self.0.ready.notify_all();
        }
    }
}

/// What one directory gave: its entries (names in one buffer) and its warnings.
struct Batch {
    dir: PathBuf,
    names: Vec<u8>,
    /// End of the name in `names`, and whether the entry is a directory.
    entries: Vec<(usize, bool)>,
    warnings: Vec<Warning>,
}

impl Batch {
    fn visit(self, path: &mut Vec<u8>, visit: &mut Visit<'_>) {
        let mut start = 0;
        for &(end, is_dir) in &self.entries {
            join(path, &self.dir, &self.names[start..end]);
            visit(Ok((Path::new(OsStr::from_bytes(path)), is_dir)));
            start = end;
        }
        for warning in self.warnings {
            visit(Err(warning));
        }
    }
}

/// `dir.join(name)` into a reused buffer.
fn join(buf: &mut Vec<u8>, dir: &Path, name: &[u8]) {
    buf.clear();
    buf.extend_from_slice(dir.as_os_str().as_bytes());
    if !buf.ends_with(b"/") {
        buf.push(b'/');
    }
    buf.extend_from_slice(name);
}

/// One thread's reusable buffers.
struct Worker<'a> {
    shared: &'a Shared,
    dents: Vec<MaybeUninit<u8>>,
    path: Vec<u8>,
    /// This thread's own stack of directories to read.
    own: Vec<Job>,
    /// Whether this thread counts as busy in the shared queue.
    busy: bool,
    /// The directory being read: names, and (end of name, type) per entry.
    names: Vec<u8>,
    listed: Vec<(usize, FileType)>,
}

impl<'a> Worker<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            dents: vec![MaybeUninit::uninit(); 32 * 1024],
            path: Vec::new(),
            own: Vec::new(),
            busy: false,
            names: Vec::new(),
            listed: Vec::new(),
        }
    }

    /// The next directory to read: from this thread's own stack, else the shared one.
    fn next(&mut self) -> Option<Job> {
        if let Some(job) = self.own.pop() {
            return Some(job);
        }
        let job = self.shared.next(self.busy);
        self.busy = job.is_some();
        job
    }

    /// Reads one directory, queues its subdirectories and returns its entries.
    fn run(&mut self, job: Job) -> Batch {
        let mut batch = Batch {
            dir: PathBuf::new(),
            names: Vec::new(),
            entries: Vec::new(),
            warnings: Vec::new(),
        };
        self.read(&job, &mut batch);
        batch.dir = job.path;
        if self.own.len() > 1 && self.shared.sleepers.load(Ordering::Relaxed) > 0 {
            self.shared.share(&mut self.own);
        }
        batch
    }

    fn read(&mut self, job: &Job, batch: &mut Batch) {
        // The root is followed if it is a link, as the other walks do.
        let fd = match open(job.parent.as_deref(), &job.path, job.depth == 0) {
            Ok(fd) => fd,
            Err(err) => {
                batch.warnings.push(Warning::from_io(job.path.clone(), err));
                return;
            }
        };
        self.names.clear();
        self.listed.clear();
        let mut dir = RawDir::new(&fd, &mut self.dents);
        while let Some(next) = dir.next() {
            let raw = match next {
                Ok(raw) => raw,
                Err(err) => {
                    batch
                        .warnings
                        .push(Warning::from_io(job.path.clone(), err.into()));
                    break;
                }
            };
            let name = raw.file_name();
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            let kind = match raw.file_type() {
                // File systems that do not fill in the type: ask, without following links.
                FileType::Unknown => match rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)
                {
                    Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                    Err(err) => {
                        let child = job.path.join(OsStr::from_bytes(bytes));
                        batch.warnings.push(Warning::from_io(child, err.into()));
                        continue;
                    }
                },
                kind => kind,
            };
            self.names.extend_from_slice(bytes);
            self.listed.push((self.names.len(), kind));
        }
        let level = match &self.shared.rules {
            Some(rules) => rules.child(job, &self.names, &self.listed, &mut batch.warnings),
            None => None,
        };
        let descend = self.shared.max_depth.is_none_or(|m| job.depth + 1 < m);
        // Below OPEN_DEPTH the descriptor is kept to open the subdirectories relative to it.
        let fd = Arc::new(fd);
        let mut start = 0;
        for &(end, kind) in &self.listed {
            let name = &self.names[start..end];
            start = end;
            let is_dir = kind == FileType::Directory;
            if skip(
                self.shared,
                &mut self.path,
                &job.path,
                name,
                is_dir,
                level.as_deref(),
            ) {
                continue;
            }
            batch.names.extend_from_slice(name);
            batch.entries.push((batch.names.len(), is_dir));
            if is_dir && descend {
                self.own.push(Job {
                    parent: (job.depth < OPEN_DEPTH).then(|| fd.clone()),
                    path: job.path.join(OsStr::from_bytes(name)),
                    depth: job.depth + 1,
                    level: level.clone(),
                });
            }
        }
    }
}

/// Whether the entry `name` of `dir` is filtered out (`path`: a buffer for its path).
fn skip(
    shared: &Shared,
    path: &mut Vec<u8>,
    dir: &Path,
    name: &[u8],
    is_dir: bool,
    level: Option<&Level>,
) -> bool {
    let mut matched = Match::None;
    if let (Some(rules), Some(level)) = (&shared.rules, level)
        && (level.any_rules || rules.global_applies(level))
    {
        join(path, dir, name);
        matched = rules.matched(Path::new(OsStr::from_bytes(path)), is_dir, level);
    }
    match matched {
        Match::Ignore(()) => true,
        Match::Whitelist(()) => false,
        Match::None => shared.filter.hidden && name.starts_with(b"."),
    }
}

/// The rules read in one directory, chained to those of its parents (`ignore`'s `Ignore`).
/// A directory without rules or repository shares its parent's level.
struct Level {
    parent: Option<Arc<Level>>,
    /// Where the root's parent directories start (their paths are matched absolute).
    absolute: bool,
    ignore: Gitignore,
    gitignore: Gitignore,
    exclude: Gitignore,
    has_git: bool,
    /// This level or one above it holds a repository.
    any_git: bool,
    /// Some level of the chain has a rule.
    any_rules: bool,
}

impl Level {
    fn new(parent: Option<Arc<Level>>, absolute: bool, read: ReadRules) -> Self {
        let parent_any = |f: fn(&Level) -> bool| parent.as_deref().is_some_and(f);
        let any_git = read.has_git || parent_any(|p| p.any_git);
        let any_rules = !read.ignore.is_empty()
            || !read.gitignore.is_empty()
            || !read.exclude.is_empty()
            || parent_any(|p| p.any_rules);
        Self {
            parent,
            absolute,
            ignore: read.ignore,
            gitignore: read.gitignore,
            exclude: read.exclude,
            has_git: read.has_git,
            any_git,
            any_rules,
        }
    }

    fn chain(&self) -> impl Iterator<Item = &Level> {
        std::iter::successors(Some(self), |l| l.parent.as_deref())
    }
}

/// What one directory holds.
struct ReadRules {
    ignore: Gitignore,
    gitignore: Gitignore,
    exclude: Gitignore,
    has_git: bool,
}

/// The rules of a walk that reads ignore files: the global gitignore, and the root's parents.
struct Rules {
    global: Gitignore,
    /// The root as given (the walk's paths start with it).
    walk_root: PathBuf,
    /// The root made canonical, to match the parents' rules against.
    absolute_base: Option<PathBuf>,
    parents: Option<Arc<Level>>,
}

impl Rules {
    /// Reads the global gitignore and the rules of the root's parent directories, as `ignore`
    /// does (errors in them are as quiet as there).
    fn new(root: &Path, warnings: &mut Vec<Warning>) -> Self {
        let (global, _) = Gitignore::global();
        let mut rules = Self {
            global,
            walk_root: root.to_path_buf(),
            absolute_base: None,
            parents: None,
        };
        let Ok(absolute) = root.canonicalize() else {
            return rules;
        };
        let ancestors: Vec<&Path> = absolute.ancestors().skip(1).collect();
        for dir in ancestors.into_iter().rev() {
            let read = read_rules(dir, None, warnings);
            rules.parents = Some(Arc::new(Level::new(rules.parents.take(), true, read)));
        }
        rules.absolute_base = Some(absolute);
        rules
    }

    /// The level of directory `job`, from its listing (`names`, `listed`).
    fn child(
        &self,
        job: &Job,
        names: &[u8],
        listed: &[(usize, FileType)],
        warnings: &mut Vec<Warning>,
    ) -> Option<Arc<Level>> {
        let mut found = Found::default();
        let mut start = 0;
        for &(end, _) in listed {
            match &names[start..end] {
                b".ignore" => found.ignore = true,
                b".gitignore" => found.gitignore = true,
                b".git" => found.git = true,
                b".jj" => found.jj = true,
                _ => {}
            }
            start = end;
        }
        if !(found.ignore || found.gitignore || found.git || found.jj) {
            return job.level.clone();
        }
        let read = read_rules(&job.path, Some(found), warnings);
        if !read.has_git
            && read.ignore.is_empty()
            && read.gitignore.is_empty()
            && read.exclude.is_empty()
        {
            return job.level.clone();
        }
        Some(Arc::new(Level::new(job.level.clone(), false, read)))
    }

    fn global_applies(&self, level: &Level) -> bool {
        level.any_git && !self.global.is_empty()
    }

    /// `ignore`'s `Ignore::matched_ignore` for our options (no overrides, types, custom or
    /// explicit ignore files), then nothing else: the hidden check is the caller's.
    fn matched(&self, path: &Path, is_dir: bool, level: &Level) -> Match<()> {
        let path = strip(path, b"./").unwrap_or(path);
        let any_git = level.any_git;
        let (mut m_ignore, mut m_gi, mut m_exclude) = (Match::None, Match::None, Match::None);
        let mut saw_git = false;
        let mut consult = |lv: &Level, path: &Path, saw_git: &mut bool| {
            if m_ignore.is_none() {
                m_ignore = unit(lv.ignore.matched(path, is_dir));
            }
            if any_git && !*saw_git && m_gi.is_none() {
                m_gi = unit(lv.gitignore.matched(path, is_dir));
            }
            if any_git && !*saw_git && m_exclude.is_none() {
                m_exclude = unit(lv.exclude.matched(path, is_dir));
            }
            *saw_git = *saw_git || lv.has_git;
        };
        let mut chain = level.chain().peekable();
        while let Some(lv) = chain.next_if(|lv| !lv.absolute) {
            consult(lv, path, &mut saw_git);
        }
        // The parents' rules see the path made absolute; skipped when none can still apply.
        if let (Some(base), Some(first)) = (&self.absolute_base, chain.peek()) {
            let wanted = |lv: &Level, saw_git: bool| {
                !lv.ignore.is_empty()
                    || (any_git && !saw_git && !(lv.gitignore.is_empty() && lv.exclude.is_empty()))
            };
            let mut saw = saw_git;
            let needed = first.chain().any(|lv| {
                let want = wanted(lv, saw);
                saw = saw || lv.has_git;
                want
            });
            if needed {
                let root = self.root_of(path);
                let absolute = base.join(root);
                for lv in chain {
                    consult(lv, &absolute, &mut saw_git);
                }
            }
        }
        let m_global = if any_git {
            unit(self.global.matched(path, is_dir))
        } else {
            Match::None
        };
        m_ignore.or(m_gi).or(m_exclude).or(m_global)
    }

    /// `path` relative to the walk's root, by bytes, as `ignore` has it.
    fn root_of<'p>(&self, path: &'p Path) -> &'p Path {
        if self.walk_root == Path::new(".") {
            return path;
        }
        let root = strip(&self.walk_root, b"./").unwrap_or(&self.walk_root);
        let rest = strip(path, root.as_os_str().as_bytes()).unwrap_or(path);
        strip(rest, b"/").unwrap_or(rest)
    }
}

/// `path` without the leading bytes `prefix`, if it starts with them.
fn strip<'p>(path: &'p Path, prefix: &[u8]) -> Option<&'p Path> {
    let bytes = path.as_os_str().as_bytes();
    bytes
        .strip_prefix(prefix)
        .map(|rest| Path::new(OsStr::from_bytes(rest)))
}

/// The rules of directory `dir`, as `ignore` reads them: from its listing when there is one
/// (`found`), otherwise by probing (the root's parents).
fn read_rules(dir: &Path, found: Option<Found>, warnings: &mut Vec<Warning>) -> ReadRules {
    let listed = |f: fn(&Found) -> bool| found.as_ref().is_none_or(f);
    let git_type = if listed(|f| f.git) {
        dir.join(".git").metadata().ok().map(|m| m.file_type())
    } else {
        None
    };
    let has_jj = listed(|f| f.jj) && dir.join(".jj").exists();
    let ignore = if listed(|f| f.ignore) {
        read_file(dir, &dir.join(".ignore"), warnings)
    } else {
        Gitignore::empty()
    };
    let gitignore = if listed(|f| f.gitignore) {
        read_file(dir, &dir.join(".gitignore"), warnings)
    } else {
        Gitignore::empty()
    };
    let exclude = if listed(|f| f.git) {
        match git_common_dir(dir, git_type) {
            Ok(git_dir) => read_file(dir, &git_dir.join("info/exclude"), warnings),
            Err(Some(err)) => {
                warnings.push(rule_warning(dir, &err));
                Gitignore::empty()
            }
            Err(None) => Gitignore::empty(),
        }
    } else {
        Gitignore::empty()
    };
    ReadRules {
        ignore,
        gitignore,
        exclude,
        has_git: git_type.is_some() || has_jj,
    }
}

/// The matcher of the ignore file `file`, for the entries under `dir`. A file that cannot be
/// read counts as empty, as in `ignore`; a bad line is a warning and the rest is used.
fn read_file(dir: &Path, file: &Path, warnings: &mut Vec<Warning>) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    if file.exists()
        && let Some(err) = builder.add(file)
        && !err.is_io()
    {
        warnings.push(rule_warning(dir, &err));
    }
    builder.build().unwrap_or_else(|err| {
        warnings.push(rule_warning(dir, &err));
        Gitignore::empty()
    })
}

/// A problem with the rules of `dir`, as the `ignore` walks report it (see `walk.rs`).
fn rule_warning(dir: &Path, err: &ignore::Error) -> Warning {
    Warning {
        path: dir.to_path_buf(),
        problem: crate::Problem::Unreadable(std::io::Error::other(err.to_string())),
    }
}

/// Where `dir`'s `.git` keeps `info/exclude`: `.git` itself, or for a linked worktree (a
/// `.git` file) the common directory its `gitdir:` names (`ignore`'s `resolve_git_commondir`).
fn git_common_dir(
    dir: &Path,
    git_type: Option<std::fs::FileType>,
) -> Result<PathBuf, Option<ignore::Error>> {
    use std::io::BufRead;
    let git = dir.join(".git");
    if !git_type.is_some_and(|t| t.is_file()) {
        return Ok(git);
    }
    let first_line = |path: &Path| -> Result<Option<String>, std::io::Error> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        file.lines().next().transpose()
    };
    let io = |err: std::io::Error, path: &Path| {
        Some(ignore::Error::WithPath {
            path: path.to_path_buf(),
            err: Box::new(ignore::Error::Io(err)),
        })
    };
    let line = first_line(&git).map_err(|err| io(err, &git))?.ok_or(None)?;
    let real = PathBuf::from(line.strip_prefix("gitdir: ").ok_or(None)?);
    let commondir = real.join("commondir");
    let line = match std::fs::File::open(&commondir) {
        Ok(_) => first_line(&commondir).map_err(|err| io(err, &commondir))?,
        Err(_) => return Err(None),
    };
    let line = line.ok_or(None)?;
    Ok(if line.starts_with('.') {
        real.join(line)
    } else {
        PathBuf::from(line)
    })
}

/// Which rule files a directory's listing shows.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    ignore: bool,
    gitignore: bool,
    git: bool,
    jj: bool,
}

fn unit<T>(m: Match<T>) -> Match<()> {
    match m {
        Match::None => Match::None,
        Match::Ignore(_) => Match::Ignore(()),
        Match::Whitelist(_) => Match::Whitelist(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::fs;

    type Entries = BTreeSet<(PathBuf, bool)>;

    fn ours(root: &Path, filter: Filter, max_depth: Option<usize>, threads: usize) -> Entries {
        let mut got = BTreeSet::new();
        walk(root, max_depth, filter, threads, &mut |step| {
            let (path, is_dir) = step.unwrap();
            assert!(got.insert((path.to_path_buf(), is_dir)), "twice: {path:?}");
        });
        got
    }

    fn ignores(root: &Path, filter: Filter, max_depth: Option<usize>) -> Entries {
        let mut walk = ignore::WalkBuilder::new(root);
        walk.hidden(filter.hidden)
            .ignore(filter.ignore_files)
            .git_ignore(filter.ignore_files)
            .git_exclude(filter.ignore_files)
            .git_global(filter.ignore_files)
            .parents(filter.ignore_files)
            .max_depth(max_depth);
        walk.build()
            .map(|e| e.unwrap())
            .filter(|e| e.depth() > 0)
            .map(|e| (e.path().to_path_buf(), e.file_type().unwrap().is_dir()))
            .collect()
    }

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    fn same_as_ignore(root: &Path) {
        for hidden in [true, false] {
            for ignore_files in [true, false] {
                let filter = Filter {
                    hidden,
                    ignore_files,
                };
                for max_depth in [None, Some(1), Some(2)] {
                    let want = ignores(root, filter, max_depth);
                    for threads in [1, 2, 3] {
                        let got = ours(root, filter, max_depth, threads);
                        assert_eq!(got, want, "{filter:?} {max_depth:?} {threads} threads");
                    }
                }
            }
        }
    }

    /// Nested .gitignore files with negations and anchors, .ignore over .gitignore, hidden
    /// directories, a whitelisted hidden file, git's exclude file, and a nested repository.
    fn tricky(root: &Path) {
        write(
            root,
            &[
                (".git/info/exclude", "excluded.wav\n"),
                (".git/objects/o.wav", ""),
                (
                    ".gitignore",
                    "*.tmp\nbuild/\n/top.wav\n!keep.tmp\n.keep*\n!.keepme\n",
                ),
                ("top.wav", ""),
                ("a/top.wav", ""),
                ("a/keep.tmp", ""),
                ("a/x.tmp", ""),
                ("a/excluded.wav", ""),
                ("a/build/b.wav", ""),
                ("a/build.wav/c.wav", ""),
                ("a/.gitignore", "!x.tmp\nsub/**/deep.wav\n/anch*\n"),
                ("a/anchored.wav", ""),
                ("a/sub/anchored.wav", ""),
                ("a/sub/1/deep.wav", ""),
                ("a/sub/deep.wav", ""),
                ("a/.hidden/h.wav", ""),
                ("a/.keepme", ""),
                ("a/.keepout", ""),
                ("b/.ignore", "!*.tmp\nonly-ignore.wav\n"),
                ("b/y.tmp", ""),
                ("b/only-ignore.wav", ""),
                ("b/c/z.tmp", ""),
                ("nested/.git/HEAD", ""),
                ("nested/n.tmp", ""),
                ("nested/.gitignore", "n2.wav\n"),
                ("nested/n2.wav", ""),
                ("nested/build/nb.wav", ""),
            ],
        );
        std::os::unix::fs::symlink(root.join("a"), root.join("link")).unwrap();
        fs::write(root.join(OsStr::from_bytes(b"caf\xe9.tmp")), "").unwrap();
    }

    #[test]
    fn same_entries_as_ignores_walker() {
        let dir = tempfile::tempdir().unwrap();
        tricky(dir.path());
        same_as_ignore(dir.path());
    }

    #[test]
    fn gitignores_need_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        tricky(dir.path());
        fs::remove_dir_all(dir.path().join(".git")).unwrap();
        same_as_ignore(dir.path());
        // In a worktree-like `.git` file, the exclude file comes from the common directory.
        let common = dir.path().join("common");
        write(
            dir.path(),
            &[
                ("common/info/exclude", "top.wav\n"),
                ("common/worktrees/w/commondir", "../..\n"),
            ],
        );
        let gitdir = common.join("worktrees/w");
        write(
            dir.path(),
            &[(".git", &format!("gitdir: {}\n", gitdir.display()))],
        );
        same_as_ignore(dir.path());
    }

    #[test]
    fn the_roots_parents_rules_apply() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (".gitignore", "inner/skip.wav\n*.tmp\n"),
                (".ignore", "*.bak\n!keep.bak\n"),
                ("inner/skip.wav", ""),
                ("inner/a.tmp", ""),
                ("inner/a.bak", ""),
                ("inner/keep.bak", ""),
                ("inner/d/skip.wav", ""),
            ],
        );
        let inner = dir.path().join("inner");
        // Without a repository only .ignore applies; with one, the .gitignore too.
        same_as_ignore(&inner);
        fs::create_dir(dir.path().join(".git")).unwrap();
        same_as_ignore(&inner);
        // A repository in the root itself stops the parents' .gitignore (not their .ignore).
        fs::create_dir(inner.join(".git")).unwrap();
        same_as_ignore(&inner);
    }

    const DIRS: [&str; 5] = ["", "a/", "a/b/", ".h/", "a/.h/"];
    const FILES: [&str; 5] = ["x.wav", ".y", "z.tmp", "b", "build"];
    const LINES: [&str; 12] = [
        "*.tmp", "!z.tmp", "a/", "/b", ".h", "!.y", "**/x.wav", "b/**", "x*", "!.h/", "/a/b/",
        "build",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Random trees with random rules in `.gitignore` and `.ignore` files at several
        /// levels, with and without a repository: the same entries as `ignore`'s walker.
        #[test]
        fn random_rules_match_ignores_walker(
            files in proptest::collection::vec((0..DIRS.len(), 0..FILES.len()), 1..12),
            rules in proptest::collection::vec(
                (0..3usize, proptest::prelude::any::<bool>(),
                 proptest::collection::vec(0..LINES.len(), 1..4)),
                0..4,
            ),
            repo in proptest::prelude::any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            for (d, f) in files {
                // A name taken by a file stays a file, one taken by a directory stays one.
                let path = root.join(DIRS[d]).join(FILES[f]);
                if fs::create_dir_all(path.parent().unwrap()).is_ok() {
                    let _ = fs::write(&path, "");
                }
            }
            for (d, dot_ignore, lines) in rules {
                let text: String = lines.iter().map(|&l| format!("{}\n", LINES[l])).collect();
                let name = if dot_ignore { ".ignore" } else { ".gitignore" };
                let path = root.join(DIRS[d]).join(name);
                if fs::create_dir_all(path.parent().unwrap()).is_ok() {
                    fs::write(path, text).unwrap();
                }
            }
            if repo {
                fs::create_dir_all(root.join(".git")).unwrap();
            }
            for hidden in [true, false] {
                let filter = Filter { hidden, ignore_files: true };
                let want = ignores(root, filter, None);
                proptest::prop_assert_eq!(ours(root, filter, None, 2), want);
            }
        }
    }
}
