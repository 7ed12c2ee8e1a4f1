//! `notes tour`: the notes replayed in Rust, one titled section per implemented note, on
//! embedded inputs, in a temporary directory and on loopback only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use notes_time::Clock;

use crate::cli::tour::TourArgs;
use crate::output::Out;
use crate::repr;

/// What a section can use: the output and a scratch directory that is removed afterwards.
struct Ctx<'a> {
    out: &'a mut Out,
    dir: &'a Path,
}

/// One note of the seed, replayed.
struct Section {
    /// Short name for `notes tour NAME`.
    name: &'static str,
    /// The note's heading in the seed.
    title: &'static str,
    /// The `notes` command (or library call) that does the same job, shown as a `#` comment line.
    command: &'static str,
    run: fn(&mut Ctx<'_>) -> anyhow::Result<()>,
}

/// The sections in the order of the notes.
const SECTIONS: &[Section] = &[
    Section {
        name: "profiling",
        title: "Profiling Python code",
        command: "notes_prof::profile(|| f(100)), then strip_dirs and sort by calls; notes prof show FILE",
        run: |ctx| {
            let (value, mut stats) = notes_prof::profile(|| maths_f(100));
            stats.strip_dirs();
            let options = notes_prof::ReportOptions {
                sort: vec![notes_prof::SortKey::Calls],
                ..Default::default()
            };
            writeln!(ctx.out, "f(100) = {value:.3}")?;
            write!(ctx.out, "{}", stats.report(&options))?;
            Ok(())
        },
    },
    Section {
        name: "eta",
        title: "Print estimated finish time of experiments",
        command: "notes eta --complete \"6h  1m 10s\" --current \"4h 51m 24s\" --done 3 --total 5",
        run: |ctx| {
            let complete = notes_time::ConciseDuration::parse("6h  1m 10s")?;
            let current = notes_time::ConciseDuration::parse("4h 51m 24s")?;
            let eta = notes_time::Eta::new(complete, current, 3, 5)?;
            let finish = eta.finish(&notes_time::SystemClock)?;
            writeln!(ctx.out, "Time left (current) = {}", eta.current_remaining)?;
            writeln!(ctx.out, "Time left (total)   = {}", eta.total_remaining)?;
            writeln!(
                ctx.out,
                "Estimated finish    = {}",
                finish.format(notes_time::WALL_CLOCK_FORMAT)
            )?;
            Ok(())
        },
    },
    Section {
        name: "multihead",
        title: "Multi-headed matrix multiplication",
        command: "notes tensor demo  (notes_tensor::heads_first(&w, &x))",
        run: |ctx| super::tensor::heads_first_example(ctx.out),
    },
    Section {
        name: "multihead-batched",
        title: "Multi-headed matrix multiplication (transposed, with a batch dimension)",
        command: "notes tensor demo  (notes_tensor::batched(&x, &w))",
        run: |ctx| super::tensor::batched_example(ctx.out),
    },
    Section {
        name: "primes",
        title: "Make a list of prime numbers",
        command: "notes primes 100",
        run: |ctx| {
            let p = notes_algo::primes_below(100);
            writeln!(ctx.out, "{p:?}")?;
            Ok(())
        },
    },
    Section {
        name: "timestamped-filename",
        title: "Get a timestamped filename",
        command: "notes stamp Output.txt",
        run: |ctx| {
            // One reading of the clock, so both lines show the same instant.
            let clock = notes_time::FixedClock(notes_time::SystemClock.now());
            writeln!(ctx.out, "{}", clock.0.format("%Y-%m-%d %H:%M:%S%.6f"))?;
            let options = notes_time::StampOptions::default();
            let name = notes_time::timestamped_name_with("Output.txt", &options, &clock)?;
            writeln!(ctx.out, "{name}")?;
            Ok(())
        },
    },
    Section {
        name: "source-dir",
        title: "Get the directory name of the current source file",
        command: "notes_fs::source_dir!()",
        run: |ctx| {
            writeln!(
                ctx.out,
                "CURRENT_DIR = {}",
                notes_fs::source_dir!().display()
            )?;
            Ok(())
        },
    },
    Section {
        name: "create-dir",
        title: "Create a directory if it doesn't exist",
        command: "notes_fs::ensure_dir(dir)",
        run: |ctx| {
            let dir = ctx.dir.join("results").join("run 1");
            for _ in 0..2 {
                let created = notes_fs::ensure_dir(&dir)?;
                let what = if created { "created" } else { "already there" };
                writeln!(ctx.out, "ensure_dir(\"results/run 1\") -> {what}")?;
            }
            Ok(())
        },
    },
    Section {
        name: "clean-filename",
        title: "Clean up a filename string",
        command: "notes clean-filename 'hello/world:!\\.txt'",
        run: |ctx| {
            writeln!(
                ctx.out,
                "{}",
                notes_fs::clean_filename("hello/world:!\\.txt", notes_fs::DEFAULT_ALLOWED)
            )?;
            Ok(())
        },
    },
    Section {
        name: "text-file",
        title: "Writing to and reading from a text file",
        command: "notes_fs::{write_text, read_text, write_ints, read_ints}",
        run: |ctx| {
            let path = ctx.dir.join(".temp.txt");
            let x = 12345;
            notes_fs::write_text(&path, &x.to_string())?;
            let y: i64 = notes_fs::read_text(&path)?
                .trim()
                .parse()
                .context("reading back .temp.txt")?;
            writeln!(ctx.out, "{x} {y} {}", python_bool(x == y))?;
            let x = [1, 2, 3, 4, 5];
            notes_fs::write_ints(&path, &x)?;
            let y = notes_fs::read_ints(&path)?;
            writeln!(ctx.out, "{x:?} {y:?} {}", python_bool(x[..] == y[..]))?;
            Ok(())
        },
    },
    Section {
        name: "context-manager",
        title: "Custom context managers using `__enter__` and `__exit__`",
        command: "notes_ipc::Checkpoint::pickle(\".temp.pkl\", data): saved when dropped, panics included",
        run: |ctx| {
            if let Some(path) = std::env::var_os(CHECKPOINT_CHILD) {
                return checkpoint_child(Path::new(&path), ctx);
            }
            let path = ctx.dir.join(".temp.pkl");
            writeln!(ctx.out, "In enter")?;
            // The body panics like the note's `raise RuntimeError()`; the default hook would
            // print the panic on stderr, so it is silenced for the duration.
            let hook = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {}));
            let mut shown = Vec::new();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut data = notes_ipc::Checkpoint::pickle(&path, Vec::<i64>::new());
                data.extend([1, 2, 3]);
                shown = data.clone();
                panic!("RuntimeError");
            }));
            std::panic::set_hook(hook);
            writeln!(ctx.out, "Inside the guard, data = {shown:?}")?;
            if result.is_err() {
                writeln!(ctx.out, "The body panicked: RuntimeError")?;
            }
            let saved = notes_ipc::pickle::load(&path, &notes_ipc::Limits::default())?;
            writeln!(
                ctx.out,
                "In exit: .temp.pkl holds {}",
                notes_ipc::pickle::repr(&saved)?
            )?;
            interrupted_checkpoint(ctx, &path)
        },
    },
    Section {
        name: "find",
        title: "Recursively search a directory for all files of a certain type",
        command: "notes find TREE -e wav --sort",
        run: |ctx| {
            let root = sample_tree(ctx.dir, "find")?;
            let options = notes_fs::FindOptions {
                sort: true,
                ..Default::default()
            };
            let found = notes_fs::find(&root, &["wav"], &options)?;
            print_relative(ctx.out, &root, &found.paths)?;
            writeln!(ctx.out, "# -u: everything, as os.walk does (.git included)")?;
            let options = notes_fs::FindOptions {
                unrestricted: true,
                ..options
            };
            let found = notes_fs::find(&root, &["wav"], &options)?;
            print_relative(ctx.out, &root, &found.paths)?;
            Ok(())
        },
    },
    Section {
        name: "extract",
        title: "Extract a substring from a file",
        command: "notes extract FILE --prefix '<title>' --suffix '</title>'",
        run: |ctx| {
            let path = ctx.dir.join("page.html");
            notes_fs::write_text(&path, "<html><title>Notes on Python</title></html>\n")?;
            let title = notes_fs::extract_between(&path, Some("<title>"), Some("</title>"))?;
            writeln!(ctx.out, "{title}")?;
            Ok(())
        },
    },
    Section {
        name: "parallel-subprocess",
        title: "Start a parallel subprocess in a new console window",
        command: "notes spawn -o print_slow.log -- notes tour --list",
        run: |ctx| {
            // The notes start `python print_slow.py` in a console of its own; here the process
            // gets a session of its own (a console on Windows) and writes to a log file, which
            // is read once both have run side by side.
            let exe = std::env::current_exe().context("cannot locate the notes executable")?;
            let log = ctx.dir.join("print_slow.log");
            let file = std::fs::File::create(&log)
                .with_context(|| format!("cannot create {}", log.display()))?;
            let mut cmd = Command::new(exe);
            cmd.args(["tour", "--list"]);
            writeln!(ctx.out, "Starting new process...")?;
            let mut child = notes_proc::spawn_detached(
                &mut cmd,
                std::process::Stdio::null(),
                file.into(),
                std::process::Stdio::inherit(),
            )?;
            writeln!(ctx.out, "This process runs in parallel...")?;
            writeln!(
                ctx.out,
                "... and both processes are running at the same time"
            )?;
            let status = child.wait()?;
            let text = std::fs::read_to_string(&log)
                .with_context(|| format!("cannot read {}", log.display()))?;
            writeln!(
                ctx.out,
                "The other process ({status}) wrote {} lines to print_slow.log, the first: {:?}",
                text.lines().count(),
                text.lines().next().unwrap_or_default().trim_end()
            )?;
            Ok(())
        },
    },
    Section {
        name: "run-command",
        title: "Run a command using `subprocess` and parse its output to STDOUT",
        command: "notes run -- notes tour --list",
        run: |ctx| {
            // The notes list /dev/serial/by-id/, which most machines lack; `notes` itself
            // exists wherever the tour runs.
            let exe = std::env::current_exe().context("cannot locate the notes executable")?;
            let lines = notes_proc::run(Command::new(exe).args(["tour", "--list"]))?;
            let names: Vec<String> = lines
                .iter()
                .filter_map(|line| line.split_whitespace().next())
                .map(|name| format!("'{name}'"))
                .collect();
            writeln!(ctx.out, "List of tour sections:\n\n[{}]", names.join(", "))?;
            Ok(())
        },
    },
    Section {
        name: "call-with-timeout",
        title: "Call a function with a timeout using `multiprocessing`",
        command: "notes_proc::call_with_timeout(f, x, timeout)  # test.py, 1 s steps -> 250 ms, 4 s -> 900 ms",
        run: |ctx| {
            let timeout = Duration::from_millis(900);
            for (i, x) in [2, 6].into_iter().enumerate() {
                if i > 0 {
                    writeln!(ctx.out)?;
                }
                // The child prints to the same standard output: flush ours first to keep order.
                ctx.out.flush()?;
                let result = notes_proc::call_with_timeout(count_slowly, x, timeout)?;
                let shown = result.map_or_else(|| "None".to_owned(), |r| r.to_string());
                writeln!(ctx.out, "{shown}")?;
            }
            Ok(())
        },
    },
    Section {
        name: "print-options",
        title: "Set `numpy` print options (including preventing `numpy` from wrapping lines)",
        command: "notes tensor print x.npy --precision 3 --linewidth 10000 --suppress --threshold 10000",
        run: |ctx| {
            // The notes print np.random.normal(size=[3, 15]); these are the values they show.
            #[rustfmt::skip]
            let values = [
                -0.351, -0.593, 1.616, 0.333, -1.238, -0.166, -1.251, -0.084, -0.562, 2.429, 0.715, 0.676, 1.393, -0.69, -0.992,
                -0.674, -0.276, 2.243, -2.216, -0.595, -0.246, -1.241, -0.282, -1.07, -0.183, -0.193, 0.028, -0.365, -0.602, -0.893,
                -0.105, -0.082, 0.305, -0.207, 0.369, 0.655, -1.292, -0.629, -0.275, -0.492, -1.085, 0.064, 0.037, 0.428, 0.126,
            ];
            let x = ndarray::Array::from_vec(values.to_vec()).into_shape_with_order((3, 15))?;
            let path = ctx.dir.join("x.npy");
            notes_tensor::write_npy(&path, &x)?;
            let options = notes_tensor::PrintOptions {
                precision: 3,
                linewidth: 10000,
                suppress: true,
                threshold: 10000,
                ..notes_tensor::PrintOptions::default()
            };
            writeln!(
                ctx.out,
                "{}",
                notes_tensor::read_npy(&path)?.format(&options)
            )?;
            Ok(())
        },
    },
    Section {
        name: "rename",
        title: "Recursively rename files using `os.path.walk` and `os.rename`",
        command: "notes rename TREE --dirs  (a dry run; then --apply --skip-conflicts, --undo)",
        run: |ctx| {
            let root = sample_tree(ctx.dir, "rename")?;
            let options = notes_fs::RenameOptions {
                dirs: true,
                ..Default::default()
            };
            let plan = notes_fs::RenamePlan::new(&root, &options)?;
            let rel = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
            for r in plan.renames().iter().filter(|r| !r.conflicted) {
                writeln!(ctx.out, "{} -> {}", rel(&r.from), rel(&r.to))?;
            }
            for conflict in plan.conflicts() {
                if let notes_fs::Conflict::SameTarget { target, sources } = conflict {
                    let sources: Vec<_> = sources.iter().map(|s| rel(s)).collect();
                    writeln!(
                        ctx.out,
                        "conflict: {} would all become {}",
                        sources.join(" and "),
                        rel(target)
                    )?;
                } else {
                    writeln!(ctx.out, "conflict: {conflict}")?;
                }
            }
            let journal = ctx.dir.join("rename.journal");
            let refused = plan.apply(&journal, false).is_err();
            writeln!(
                ctx.out,
                "--apply: {}",
                if refused {
                    "refused, nothing renamed"
                } else {
                    "applied"
                }
            )?;
            let applied = plan.apply(&journal, true)?;
            writeln!(
                ctx.out,
                "--apply --skip-conflicts: {} renamed, {} kept their names",
                applied.renamed, applied.skipped
            )?;
            let undone = notes_fs::undo(&journal)?;
            writeln!(ctx.out, "--undo: {} names restored", undone.restored)?;
            Ok(())
        },
    },
    Section {
        name: "delete",
        title: "Recursively delete files using `os.path.walk` and `os.remove`",
        command: "notes delete TREE --keep-ext pdf  (a dry run; then --apply)",
        run: |ctx| {
            let root = sample_tree(ctx.dir, "delete")?;
            let rule = notes_fs::DeleteRule {
                keep_ext: vec!["pdf".to_owned()],
                ..Default::default()
            };
            let plan = notes_fs::DeletePlan::new(&root, &rule)?;
            let doomed: Vec<_> = plan.files().iter().map(|d| d.path.clone()).collect();
            print_relative(ctx.out, &root, &doomed)?;
            writeln!(
                ctx.out,
                "dry run: {} files, {} bytes",
                doomed.len(),
                plan.total_size()
            )?;
            plan.apply(notes_fs::Removal::Delete)?;
            let all = notes_fs::FindOptions {
                unrestricted: true,
                sort: true,
                ..Default::default()
            };
            let left = notes_fs::find(&root, &[] as &[&str], &all)?;
            writeln!(ctx.out, "# after --apply, left:")?;
            print_relative(ctx.out, &root, &left.paths)?;
            Ok(())
        },
    },
    Section {
        name: "flatten",
        title: "Recursively flatten a list of irregularly nested lists",
        command: "notes flatten '[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]'",
        run: |ctx| {
            let x = "[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]";
            let range = format!(
                "[{}]",
                (0..16)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            writeln!(ctx.out, "{x}")?;
            for input in [x, range.as_str()] {
                let leaves = notes_algo::parse_json(input)?.flatten();
                writeln!(ctx.out, "{}", repr::python_list(&leaves))?;
            }
            Ok(())
        },
    },
    Section {
        name: "permutations",
        title: "Find all permutations of a string",
        command: "notes permutations 1234",
        run: |ctx| {
            let perms: Vec<String> = notes_algo::string_permutations("1234").collect();
            writeln!(ctx.out, "{}", repr::python_str_list(&perms))?;
            Ok(())
        },
    },
    Section {
        name: "bwt",
        title: "Burrows–Wheeler transform (BWT)",
        command: "notes bwt '^BANANA|'; notes bwt --inverse --index 6 'BNN^AA|A'",
        run: |ctx| {
            let (s, i) = notes_algo::bwt("^BANANA|");
            writeln!(ctx.out, "{s}")?;
            let s = notes_algo::inverse_bwt(&s, i)?;
            writeln!(ctx.out, "{s}")?;
            Ok(())
        },
    },
    Section {
        name: "pickle",
        title: "`pickle`",
        command: "notes pickle show .temp.pkl",
        run: |ctx| {
            let path = ctx.dir.join(".temp.pkl");
            let x = vec![1i64, 2, 3, 5];
            notes_ipc::pickle::save(&path, &x)?;
            let y = notes_ipc::pickle::load(&path, &notes_ipc::Limits::default())?;
            writeln!(
                ctx.out,
                "{} {}",
                repr::python_list(&x.iter().map(|&i| i.into()).collect::<Vec<_>>()),
                notes_ipc::pickle::repr(&y)?
            )?;
            Ok(())
        },
    },
    Section {
        name: "socket",
        title: "`socket`",
        command: "notes echo serve --addr 127.0.0.1:0 --once & notes echo send --addr ADDR 'Hello, world'",
        run: |ctx| {
            let mut config = notes_ipc::echo::ServerConfig::default();
            config.once = true;
            let server = notes_ipc::echo::Server::bind("127.0.0.1:0", config)?;
            let addr = server.local_addr();
            let stop = server.shutdown_handle();
            let running = std::thread::spawn(move || server.serve());
            let reply =
                notes_ipc::echo::send(addr, b"Hello, world", std::time::Duration::from_secs(5));
            if reply.is_err() {
                stop.shutdown();
            }
            let report = running
                .join()
                .map_err(|_| anyhow::anyhow!("the echo server thread panicked"))??;
            writeln!(
                ctx.out,
                "Received {}",
                notes_ipc::pickle::bytes_repr(&reply?)
            )?;
            writeln!(
                ctx.out,
                "The server echoed {} bytes to {} client",
                report.bytes, report.connections
            )?;
            Ok(())
        },
    },
];

/// The notes' `f(x)`: prints 0, 1, ..., x - 1, one per step, then returns 42. It runs in the
/// child process `call_with_timeout` starts, so it writes to the real standard output.
fn count_slowly(x: u64) -> u64 {
    let mut stdout = std::io::stdout();
    for i in 0..x {
        // A closed stdout only loses the demo's numbers; the return value still matters.
        let _ = writeln!(stdout, "{i}").and_then(|()| stdout.flush());
        std::thread::sleep(Duration::from_millis(250));
    }
    42
}

/// The tour's sample tree in `dir/name`: names with spaces, a `.git` directory, a `.PDF`, a
/// `.pdf.bak`, and two names that both become `a_b.txt`. Each file holds its own name.
/// Set (to a file) in the child `notes tour context-manager` that [`interrupted_checkpoint`]
/// starts and interrupts.
const CHECKPOINT_CHILD: &str = "NOTES_TOUR_CHECKPOINT_CHILD";

/// The Ctrl-C case of the context-manager note: a child process collects data in a
/// `Checkpoint` with `on_signals()`, gets SIGINT, and leaves the file behind.
fn interrupted_checkpoint(ctx: &mut Ctx<'_>, path: &Path) -> anyhow::Result<()> {
    use std::io::BufRead;
    let exe = std::env::current_exe().context("cannot locate the notes executable")?;
    let mut child = Command::new(exe)
        .args(["tour", "context-manager"])
        .env(CHECKPOINT_CHILD, path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start the child notes process")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let ready = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "ready");
    if ready {
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .context("cannot run kill")?;
        anyhow::ensure!(sent.success(), "kill -INT failed");
    }
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            anyhow::bail!("the child process did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let saved = notes_ipc::pickle::load(path, &notes_ipc::Limits::default())?;
    writeln!(
        ctx.out,
        "With on_signals(), Ctrl-C (SIGINT) saved .temp.pkl: {}, exit status {}",
        notes_ipc::pickle::repr(&saved)?,
        status
            .code()
            .map_or_else(|| format!("{status}"), |code| code.to_string())
    )?;
    Ok(())
}

/// The child of [`interrupted_checkpoint`]: collects `[1, 2, 3, 4]`, says `ready`, and
/// waits (at most 10 s) for the signal that saves it.
fn checkpoint_child(path: &Path, ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let mut data = notes_ipc::Checkpoint::pickle(path, Vec::<i64>::new()).on_signals()?;
    for i in 1..=4 {
        data.update(|items| items.push(i))?;
    }
    writeln!(ctx.out, "ready")?;
    ctx.out.flush()?;
    std::thread::sleep(Duration::from_secs(10));
    anyhow::bail!("no signal came within 10 s")
}

fn sample_tree(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let root = dir.join(name);
    for file in [
        "Song One.wav",
        "b.WAV",
        "notes.txt",
        "Music Dir/Track Two.wav",
        ".git/hooks/old hook.wav",
        "not.github/x y.txt",
        "A File.PDF",
        "report.pdf.bak",
        "A B.txt",
        "a b.txt",
    ] {
        let path = root.join(file);
        if let Some(parent) = path.parent() {
            notes_fs::ensure_dir(parent)?;
        }
        notes_fs::write_text(&path, file)?;
    }
    Ok(root)
}

/// Prints `paths` relative to `root`, one a line.
fn print_relative(out: &mut Out, root: &Path, paths: &[PathBuf]) -> anyhow::Result<()> {
    for path in paths {
        writeln!(out, "{}", path.strip_prefix(root).unwrap_or(path).display())?;
    }
    Ok(())
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `notes tour [--list] [SECTION...]`.
#[tracing::instrument(skip_all)]
pub(crate) fn run(args: &TourArgs, out: &mut Out) -> anyhow::Result<()> {
    if args.list {
        let width = SECTIONS.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for section in SECTIONS {
            writeln!(out, "{:width$}  {}", section.name, section.title)?;
        }
        return Ok(());
    }
    let chosen: Vec<&Section> = if args.sections.is_empty() {
        SECTIONS.iter().collect()
    } else {
        args.sections
            .iter()
            .filter_map(|name| SECTIONS.iter().find(|s| s.name == name))
            .collect()
    };
    let scratch = tempfile::Builder::new()
        .prefix("notes-tour-")
        .tempdir()
        .context("cannot create the tour's temporary directory")?;
    for (i, section) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        out.heading(&format!("== {} ==", section.title))?;
        writeln!(out, "# {}", section.command)?;
        let mut ctx = Ctx {
            out,
            dir: scratch.path(),
        };
        (section.run)(&mut ctx)
            .with_context(|| format!("tour section `{}` failed", section.name))?;
    }
    scratch
        .close()
        .context("cannot remove the tour's temporary directory")?;
    Ok(())
}

/// The notes' `maths_test.py`: `f(x)` is the standard deviation of `g(i)` for `i` below `x`,
/// `g(x)` the sum of the square roots below `x`, written recursively here so that its calls
/// show as `total/primitive`.
#[tracing::instrument(name = "f", skip_all)]
fn maths_f(x: u32) -> f64 {
    let values: Vec<f64> = (0..x).map(maths_g).collect();
    stdev(&values)
}

#[tracing::instrument(name = "g", skip_all)]
fn maths_g(x: u32) -> f64 {
    if x == 0 {
        0.0
    } else {
        f64::from(x - 1).sqrt() + maths_g(x - 1)
    }
}

/// Python's `statistics.stdev`: the sample standard deviation.
#[tracing::instrument(skip_all)]
fn stdev(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::SECTIONS;
    use crate::cli::tour::SECTION_NAMES;

    #[test]
    fn every_section_has_its_name_on_the_command_line() {
        let names: Vec<_> = SECTIONS.iter().map(|s| s.name).collect();
        assert_eq!(names, SECTION_NAMES);
    }

    #[test]
    fn section_names_are_unique_and_kebab_case() {
        let mut names: Vec<_> = SECTIONS.iter().map(|s| s.name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SECTIONS.len());
    }
}
