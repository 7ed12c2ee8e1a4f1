//! The release workflow: the notes' "build + twine upload" for a Cargo workspace.
//!
//! `versions` (pip show), `bump`, `preflight`, `package`, `publish` (resumable, in dependency
//! order, waiting for the index) and `install-check`. Every command takes the workspace root,
//! so `release-e2e` can run them on a staged copy against a local registry.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::process::{cargo, run};
use crate::registry::{self, Entry, Registry};
use crate::workspace::{Crate, Workspace};

/// Who holds a crate name on the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// No crate of that name (in either `-`/`_` spelling) exists.
    Free,
    /// It exists and its newest version comes from our repository.
    Ours,
    /// It exists and comes from somewhere else (their `repository`, if they set one).
    Foreign(Option<String>),
}

/// What the registry says about one of our crates.
#[derive(Debug)]
pub(crate) struct Status {
    pub(crate) entries: Vec<Entry>,
    pub(crate) owner: Owner,
}

impl Status {
    pub(crate) fn newest(&self) -> Option<&semver::Version> {
        self.entries.iter().map(|e| &e.vers).max()
    }

    /// The index entry of exactly `version`, if published.
    pub(crate) fn entry(&self, version: &semver::Version) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.vers == version)
    }
}

/// Reads the registry's view of `krate`, downloading its newest `.crate` to see whose it is.
pub(crate) fn status(registry: &Registry, krate: &Crate) -> anyhow::Result<Status> {
    let entries = registry.versions(&krate.name)?;
    let owner = match entries.iter().max_by(|a, b| a.vers.cmp(&b.vers)) {
        None => Owner::Free,
        Some(newest) => {
            let bytes = registry.download(&newest.name, &newest.vers)?;
            let (repository, _) = registry::inspect_crate(&bytes)?;
            let ours = krate.metadata.repository.as_deref().map(normalise_url);
            if repository.as_deref().map(normalise_url) == ours && ours.is_some() {
                Owner::Ours
            } else {
                Owner::Foreign(repository)
            }
        }
    };
    Ok(Status { entries, owner })
}

fn normalise_url(url: &str) -> String {
    url.trim()
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_lowercase()
}

/// `cargo xtask versions`: a `pip show`-like table of every publishable crate.
pub(crate) fn versions(root: &Path, registry: Option<&str>) -> anyhow::Result<()> {
    let workspace = Workspace::load(root)?;
    let registry = Registry::open(registry, root)?;
    let mut rows = vec![[
        "crate".to_owned(),
        "local".to_owned(),
        format!("on {}", registry.label()),
        "local version published".to_owned(),
    ]];
    for krate in workspace.publishable() {
        let status = status(&registry, krate)?;
        let remote = match (&status.owner, status.newest()) {
            (Owner::Free, _) | (_, None) => "unpublished".to_owned(),
            (Owner::Ours, Some(v)) => v.to_string(),
            (Owner::Foreign(repo), Some(v)) => format!(
                "{v} (name owned by someone else: {})",
                repo.as_deref().unwrap_or("no repository given")
            ),
        };
        let published = match (status.entry(&krate.version), &status.owner) {
            (Some(_), Owner::Ours) => "yes",
            (Some(_), _) => "no (that version is someone else's)",
            (None, _) => "no",
        };
        rows.push([
            krate.name.clone(),
            krate.version.to_string(),
            remote,
            published.to_owned(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

fn table(rows: &[[String; 4]]) -> String {
    let mut widths = [0; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// `cargo xtask preflight`: every reason the publishable crates cannot be published as they
/// are, or an empty list.
///
/// Everything that can be read from the manifests is checked here (metadata fields, files they
/// name, dependencies without a version or on unpublishable siblings), so one run lists every
/// problem; a cargo command that fails (`cargo package`) or a registry that cannot be read is one
/// more problem of that crate, not the end of the run.
pub(crate) fn preflight(root: &Path, registry: &Registry) -> anyhow::Result<Vec<String>> {
    let workspace = Workspace::load(root)?;
    let mut problems = Vec::new();
    for krate in workspace.publishable() {
        let name = &krate.name;
        let package = &krate.metadata;
        let manifest_dir = krate.manifest_path.parent().unwrap_or(root);
        let required = [
            ("description", package.description.is_some()),
            (
                "license",
                package.license.is_some() || package.license_file.is_some(),
            ),
            ("repository", package.repository.is_some()),
            ("readme", package.readme.is_some()),
            ("keywords", !package.keywords.is_empty()),
            ("categories", !package.categories.is_empty()),
        ];
        for (field, present) in required {
            if !present {
                problems.push(format!("{name}: Cargo.toml has no `{field}`"));
            }
        }
        for (field, file) in [
            ("readme", &package.readme),
            ("license-file", &package.license_file),
        ] {
            if let Some(file) = file
                && !manifest_dir.join(file.as_std_path()).is_file()
            {
                problems.push(format!(
                    "{name}: the {field} {file} does not exist (relative to {})",
                    manifest_dir.display()
                ));
            }
        }
        for dep in &package.dependencies {
            if dep.kind == cargo_metadata::DependencyKind::Development {
                continue;
            }
            if dep.path.is_some() && dep.req.to_string() == "*" {
                problems.push(format!(
                    "{name}: path dependency {} has no version requirement",
                    dep.name
                ));
            }
            if let Some(sibling) = workspace.crates.iter().find(|c| c.name == dep.name)
                && !sibling.publishable
            {
                problems.push(format!(
                    "{name}: depends on {}, which is not publishable",
                    dep.name
                ));
            }
        }
        // cargo's own view of the package: whatever it refuses is one more problem.
        let packaged = match package_list(root, name) {
            Ok(listed) => {
                if let Some(readme) = &package.readme {
                    let readme = readme.as_str().trim_start_matches("./");
                    if !listed.iter().any(|f| f == readme) {
                        problems.push(format!(
                            "{name}: the readme {readme} is not in the package (cargo package --list)"
                        ));
                    }
                }
                true
            }
            Err(err) => {
                problems.push(format!("{name}: `cargo package --list` failed: {err}"));
                false
            }
        };
        let status = match status(registry, krate) {
            Ok(status) => status,
            Err(err) => {
                problems.push(format!(
                    "{name}: cannot read it on {}: {err:#}",
                    registry.label()
                ));
                continue;
            }
        };
        match &status.owner {
            Owner::Foreign(repo) => problems.push(format!(
                "{name}: the name is taken on {} by another project ({}, versions {}); \
                 rename the package (e.g. `name = \"notes-{}-rs\"`; its `[[bin]]` and `[lib]` names, \
                 and so the `notes` command and the import name, can stay), or ask its owners for a transfer",
                registry.label(),
                repo.as_deref().unwrap_or("no repository given"),
                versions_list(&status.entries),
                name.trim_start_matches("notes-"),
            )),
            Owner::Ours | Owner::Free => {}
        }
        // A foreign name is reported above; our own name may already hold this version, and
        // then only an identical package (same checksum) may be "published" again (skipped).
        // A crate cargo cannot package has been reported already.
        if let (true, Some(entry), Owner::Ours) =
            (packaged, status.entry(&krate.version), &status.owner)
        {
            match local_checksum(root, name, &krate.version, registry) {
                Ok(ours) if entry.cksum != ours => problems.push(format!(
                    "{name} {}: already on {} with a different checksum ({}…, ours {}…): bump the version",
                    krate.version,
                    registry.label(),
                    &entry.cksum[..12.min(entry.cksum.len())],
                    &ours[..12]
                )),
                Ok(_) => {}
                Err(err) => problems.push(format!("{name}: `cargo package` failed: {err:#}")),
            }
        }
    }
    Ok(problems)
}

fn versions_list(entries: &[Entry]) -> String {
    let mut versions: Vec<_> = entries.iter().map(|e| e.vers.clone()).collect();
    versions.sort();
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The files `cargo package` would put in the `.crate` of `name`; the error is cargo's message.
fn package_list(root: &Path, name: &str) -> Result<Vec<String>, String> {
    let out = cargo()
        .current_dir(root)
        .args(["package", "--list", "--allow-dirty", "-p", name])
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !out.status.success() {
        return Err(cargo_message(&out.stderr, out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// cargo's error message from its standard error (its `error:` lines and what follows them,
/// without progress lines such as `Updating` or `Locking`), or the exit status if it printed
/// none.
fn cargo_message(stderr: &[u8], status: std::process::ExitStatus) -> String {
    let text = String::from_utf8_lossy(stderr);
    let message = match text.find("error: ") {
        Some(at) => text[at + "error: ".len()..].trim(),
        None => text.trim(),
    };
    if message.is_empty() {
        format!("cargo exited with {status}")
    } else {
        message.replace('\n', "\n    ")
    }
}

/// Packages `name` without building it and returns the `.crate` file's checksum.
fn local_checksum(
    root: &Path,
    name: &str,
    version: &semver::Version,
    registry: &Registry,
) -> anyhow::Result<String> {
    let mut command = cargo();
    command.current_dir(root).args([
        "package",
        "--no-verify",
        "--allow-dirty",
        "--locked",
        "-p",
        name,
    ]);
    if let Some(reg) = &registry.name {
        command.args(["--registry", reg]);
    }
    run(&mut command)?;
    let file = crate_file(root, name, version)?;
    Ok(registry::checksum(&std::fs::read(&file)?))
}

/// `target/package/<name>-<version>.crate`, honouring `CARGO_TARGET_DIR`.
fn crate_file(root: &Path, name: &str, version: &semver::Version) -> anyhow::Result<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let file = target
        .join("package")
        .join(format!("{name}-{version}.crate"));
    if !file.is_file() {
        bail!("{} was not produced", file.display());
    }
    Ok(file)
}

/// `cargo xtask package`: packages every publishable crate (each verified to build from its
/// package) and lists the archives.
pub(crate) fn package(root: &Path, allow_dirty: bool) -> anyhow::Result<()> {
    let workspace = Workspace::load(root)?;
    let mut command = cargo();
    command
        .current_dir(root)
        .args(["package", "--workspace", "--locked"]);
    command.args(workspace.exclude_unpublishable());
    if allow_dirty {
        command.arg("--allow-dirty");
    }
    run(&mut command)?;
    let mut rows = vec![[
        "crate".to_owned(),
        "file".to_owned(),
        "size".to_owned(),
        "files".to_owned(),
    ]];
    for krate in workspace.publishable() {
        let file = crate_file(root, &krate.name, &krate.version)?;
        let bytes = std::fs::read(&file)?;
        let (_, files) = registry::inspect_crate(&bytes)?;
        rows.push([
            krate.name.clone(),
            file.display().to_string(),
            format!("{:.1} KiB", bytes.len() as f64 / 1024.0),
            files.to_string(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Options of `cargo xtask publish`.
#[derive(Debug, Default)]
pub(crate) struct PublishOptions {
    pub(crate) registry: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) allow_dirty: bool,
    /// Skip cargo's build of each package before upload (the e2e test installs the result instead).
    pub(crate) no_verify: bool,
    /// Do not create the `vX.Y.Z` git tag.
    pub(crate) no_tag: bool,
    /// How long to wait for the index to serve each new version.
    pub(crate) index_timeout: Duration,
}

/// What happened to one crate during `publish`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Published,
    Skipped,
    Failed(String),
    NotTried,
}

/// `cargo xtask publish`: preflight, then each crate in dependency order, skipping versions the
/// registry already has with our checksum, so a rerun after a failure resumes where it stopped.
pub(crate) fn publish(
    root: &Path,
    options: &PublishOptions,
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let registry = Registry::open(options.registry.as_deref(), root)?;
    if !options.allow_dirty {
        ensure_clean(root)?;
    }
    println!("==> preflight ({})", registry.label());
    let problems = preflight(root, &registry)?;
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("preflight: {problem}");
        }
        bail!(
            "{} preflight problem(s); nothing was published",
            problems.len()
        );
    }
    let workspace = Workspace::load(root)?;
    let version = workspace.version()?;
    if options.dry_run {
        let mut command = cargo();
        command.current_dir(root).args([
            "publish",
            "--workspace",
            "--dry-run",
            "--locked",
            "--allow-dirty",
        ]);
        command.args(workspace.exclude_unpublishable());
        if let Some(reg) = &registry.name {
            command.args(["--registry", reg]);
        }
        run(&mut command)?;
        println!(
            "dry run: {} crate(s) would be published at {version}",
            workspace.publishable().count()
        );
        return Ok(Vec::new());
    }
    // A test hook: fail after this many uploads, to prove that a rerun resumes.
    let fail_after: Option<usize> = std::env::var("XTASK_PUBLISH_FAIL_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut uploads = 0;
    let mut outcomes: Vec<(String, Outcome)> = workspace
        .publishable()
        .map(|c| (c.name.clone(), Outcome::NotTried))
        .collect();
    for (krate, outcome) in workspace.publishable().zip(outcomes.iter_mut()) {
        let status = status(&registry, krate)?;
        if status.entry(&krate.version).is_some() {
            // preflight has checked that the checksum is ours.
            println!(
                "==> {} {}: already on {}, skipped",
                krate.name,
                krate.version,
                registry.label()
            );
            outcome.1 = Outcome::Skipped;
            continue;
        }
        if fail_after == Some(uploads) {
            outcome.1 = Outcome::Failed("simulated failure (XTASK_PUBLISH_FAIL_AFTER)".into());
            break;
        }
        println!(
            "==> {} {}: publishing to {}",
            krate.name,
            krate.version,
            registry.label()
        );
        let mut command = cargo();
        command
            .current_dir(root)
            .args(["publish", "--locked", "-p", &krate.name]);
        if let Some(reg) = &registry.name {
            command.args(["--registry", reg]);
        }
        if options.allow_dirty {
            command.arg("--allow-dirty");
        }
        if options.no_verify {
            command.arg("--no-verify");
        }
        if let Err(err) = run(&mut command) {
            outcome.1 = Outcome::Failed(format!("{err:#}"));
            break;
        }
        wait_for_index(
            &registry,
            &krate.name,
            &krate.version,
            options.index_timeout,
        )?;
        uploads += 1;
        outcome.1 = Outcome::Published;
    }
    println!("summary:");
    for (name, outcome) in &outcomes {
        println!("  {name:14} {outcome:?}");
    }
    if let Some((name, Outcome::Failed(why))) = outcomes
        .iter()
        .find(|(_, o)| matches!(o, Outcome::Failed(_)))
    {
        bail!("publishing {name} failed: {why}; rerun `cargo xtask publish` to resume");
    }
    if !options.no_tag {
        tag(root, &version)?;
    }
    Ok(outcomes)
}

fn wait_for_index(
    registry: &Registry,
    name: &str,
    version: &semver::Version,
    timeout: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if registry.versions(name)?.iter().any(|e| &e.vers == version) {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            bail!(
                "{name} {version} was uploaded but {} does not list it after {}s; \
                 rerun `cargo xtask publish` later, it will skip what is there",
                registry.label(),
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn tag(root: &Path, version: &semver::Version) -> anyhow::Result<()> {
    let tag = format!("v{version}");
    let exists = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--verify", "--quiet", &tag])
        .output()?;
    if exists.status.success() {
        println!("==> tag {tag} exists already");
        return Ok(());
    }
    run(Command::new("git").current_dir(root).args([
        "tag",
        "-a",
        &tag,
        "-m",
        &format!("Release {version}"),
    ]))?;
    println!("==> tagged {tag}; push it with `git push origin {tag}`");
    Ok(())
}

fn ensure_clean(root: &Path) -> anyhow::Result<()> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain"])
        .output()
        .context("cannot run git status")?;
    if !output.status.success() {
        bail!(
            "{} is not a git work tree; pass --allow-dirty to go on anyway",
            root.display()
        );
    }
    if !output.stdout.is_empty() {
        bail!(
            "the work tree has uncommitted changes; commit them or pass --allow-dirty:\n{}",
            String::from_utf8_lossy(&output.stdout).trim_end()
        );
    }
    Ok(())
}

/// `cargo xtask install-check`: installs `notes-cli` from the registry into a temporary root and
/// runs `notes --version` and `notes tour` (the notes' "install it and check it is working").
pub(crate) fn install_check(
    root: &Path,
    registry: Option<&str>,
    version: Option<&str>,
    debug: bool,
) -> anyhow::Result<()> {
    let install_root = tempfile::Builder::new()
        .prefix("notes-install-")
        .tempdir()?;
    let mut command = cargo();
    command
        .current_dir(root)
        .args(["install", "notes-cli", "--root"])
        .arg(install_root.path());
    if let Some(reg) = registry {
        command.args(["--registry", reg]);
    }
    if let Some(version) = version {
        command.args(["--version", version]);
    }
    if debug {
        command.arg("--debug");
    }
    run(&mut command)?;
    let notes = install_root
        .path()
        .join("bin")
        .join(format!("notes{}", std::env::consts::EXE_SUFFIX));
    let output = Command::new(&notes)
        .arg("--version")
        .output()
        .context("cannot run the installed notes")?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || !printed.starts_with("notes ") {
        bail!(
            "installed `notes --version` printed {printed:?} ({})",
            output.status
        );
    }
    println!("==> installed: {printed}");
    let output = Command::new(&notes).arg("tour").output()?;
    if !output.status.success() {
        bail!(
            "installed `notes tour` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!(
        "==> `notes tour` ran ({} lines)",
        String::from_utf8_lossy(&output.stdout).lines().count()
    );
    Ok(())
}
