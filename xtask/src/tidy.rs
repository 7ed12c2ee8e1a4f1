//! `cargo xtask tidy`: the workspace's structural invariants, checked rather than stated
//! (docs/architecture.md lists them). The dependency rules are the Rust side of the notes'
//! "circular imports" section: the crate graph is a DAG with `notes-cli` on top.

mod conventions;
mod cycles;
mod source;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Context;
use cargo_metadata::{DependencyKind, MetadataCommand, Package};

use crate::process::{cargo, output};

/// The binary crate on top of the graph.
const CLI: &str = "notes-cli";

/// "Library `crates` never depend on `forbidden`", checked over every normal and build
/// dependency, direct or transitive, with the features that `cargo build -p <crate>` enables.
struct Rule {
    crates: &'static [&'static str],
    forbidden: &'static [&'static str],
    why: &'static str,
}

const LIBRARIES: &[&str] = &[
    "notes-algo",
    "notes-fs",
    "notes-ipc",
    "notes-proc",
    "notes-prof",
    "notes-tensor",
    "notes-time",
];

const RULES: &[Rule] = &[
    Rule {
        crates: LIBRARIES,
        forbidden: &[CLI, "clap", "anyhow"],
        why: "only notes-cli parses arguments and erases error types",
    },
    Rule {
        crates: &["notes-algo", "notes-time", "notes-proc"],
        forbidden: &["ndarray", "tracing-subscriber"],
        why: "light crates must not make their users compile heavy ones",
    },
    Rule {
        crates: &["notes-ipc", "notes-prof", "notes-tensor"],
        forbidden: &["ignore", "globset", "trash"],
        why: "they take notes-fs for its atomic writer only (default-features = false)",
    },
];

/// Checks the workspace at `root`; returns every problem found (empty when tidy).
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let manifest = root.join("Cargo.toml");
    let metadata = MetadataCommand::new()
        .manifest_path(&manifest)
        .no_deps()
        .exec()
        .with_context(|| format!("cannot read the workspace at {}", root.display()))?;
    let members: Vec<&Package> = metadata.workspace_packages();
    let mut problems = Vec::new();

    for rule in RULES {
        for &krate in rule.crates {
            if !members.iter().any(|p| p.name.as_str() == krate) {
                problems.push(format!("{krate}: missing from the workspace"));
                continue;
            }
            let deps = dependency_closure(&manifest, krate)?;
            for &forbidden in rule.forbidden {
                if deps.contains(forbidden) {
                    problems.push(format!(
                        "{krate} depends on {forbidden} (directly or transitively): forbidden because {}",
                        rule.why
                    ));
                }
            }
        }
    }

    for package in &members {
        let name = package.name.as_str();
        // Nothing may depend on the CLI, not even for tests: it stays on top of the DAG.
        if name != CLI && package.dependencies.iter().any(|d| d.name == CLI) {
            problems.push(format!(
                "{name} depends on {CLI}: the CLI is the top of the graph"
            ));
        }
        // Sibling requirements carry a version, or the crate cannot be published.
        for dep in &package.dependencies {
            if dep.path.is_some()
                && dep.req.to_string() == "*"
                && dep.kind != DependencyKind::Development
            {
                problems.push(format!(
                    "{name}: path dependency {} has no version requirement",
                    dep.name
                ));
            }
        }
        if LIBRARIES.contains(&name) {
            check_library(package, &mut problems)?;
        }
        // Imports run one way inside every crate the package builds (library, binary, tests).
        let mut roots: Vec<&Path> = package
            .targets
            .iter()
            .map(|t| t.src_path.as_std_path())
            .collect();
        roots.sort();
        roots.dedup();
        for root_file in roots {
            problems.extend(cycles::check(name, root_file)?);
        }
    }

    let root_manifest = fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    problems.extend(conventions::check_lint_policy(&root_manifest));
    for file in conventions::rust_files(root)? {
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        problems.extend(conventions::check_file(&shown, &text));
    }
    Ok(problems)
}

/// Crate-level conventions every library follows (crates.io metadata, docs, lints).
fn check_library(package: &Package, problems: &mut Vec<String>) -> anyhow::Result<()> {
    let name = package.name.as_str();
    let missing = |field: &str, present: bool, problems: &mut Vec<String>| {
        if !present {
            problems.push(format!("{name}: Cargo.toml has no `{field}`"));
        }
    };
    missing("description", package.description.is_some(), problems);
    missing("license", package.license.is_some(), problems);
    missing("repository", package.repository.is_some(), problems);
    missing("documentation", package.documentation.is_some(), problems);
    missing("keywords", !package.keywords.is_empty(), problems);
    missing("categories", !package.categories.is_empty(), problems);
    missing("readme", package.readme.is_some(), problems);
    let dir = package
        .manifest_path
        .parent()
        .context("manifest without a directory")?;
    if !dir.join("README.md").is_file() {
        problems.push(format!("{name}: README.md is missing"));
    }
    let manifest = fs::read_to_string(&package.manifest_path)?;
    if !manifest.contains("[lints]\nworkspace = true") {
        problems.push(format!(
            "{name}: Cargo.toml must inherit the lint policy (`[lints] workspace = true`)"
        ));
    }
    let lib = fs::read_to_string(dir.join("src/lib.rs"))
        .with_context(|| format!("{name}: cannot read src/lib.rs"))?;
    if !lib.contains("#![deny(missing_docs)]") {
        problems.push(format!("{name}: src/lib.rs lacks #![deny(missing_docs)]"));
    }
    if !lib.contains("include_str!(\"../README.md\")") {
        problems.push(format!(
            "{name}: the crate doc must be its README (#![doc = include_str!(\"../README.md\")])"
        ));
    }
    Ok(())
}

/// Names of every package that `cargo build -p krate` would compile for the library itself
/// (normal and build dependencies, all targets), from `cargo tree`.
fn dependency_closure(manifest: &Path, krate: &str) -> anyhow::Result<BTreeSet<String>> {
    let stdout = output(
        cargo()
            .args(["tree", "--manifest-path"])
            .arg(manifest)
            .args([
                "-p",
                krate,
                "-e",
                "normal,build",
                "--target",
                "all",
                "--prefix",
                "none",
                "--format",
                "{p}",
            ]),
    )
    .with_context(|| format!("cannot list what {krate} depends on"))?;
    let text = String::from_utf8(stdout).context("cargo tree printed non-UTF-8")?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != krate)
        .map(str::to_owned)
        .collect())
}
