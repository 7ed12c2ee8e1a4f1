//! Integration tests of `cargo xtask`: the dependency rules fail when a forbidden edge appears.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Copies the workspace's manifests, lock file and sources (no `target/`) into a temp dir.
fn copy_workspace() -> tempfile::TempDir {
    let root = workspace_root();
    let tmp = tempfile::tempdir().expect("temp dir");
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(root.join(file), tmp.path().join(file)).expect("copy manifest");
    }
    for dir in ["crates", "xtask"] {
        copy_dir(&root.join(dir), &tmp.path().join(dir));
    }
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let kind = entry.file_type().expect("file type");
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).expect("copy file");
        }
    }
}

/// The cargo that runs these tests (`$CARGO`), as xtask itself calls it.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The host's target triple, as `rustc -vV` prints it.
fn host_triple() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    let text = String::from_utf8(output.stdout).expect("rustc -vV prints UTF-8");
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn tidy(root: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["tidy", "--root"])
        .arg(root)
        .output()
        .expect("run xtask tidy")
}

fn add_dependency(root: &Path, krate: &str, line: &str) {
    let manifest = root.join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read manifest");
    let text = text.replacen("[dependencies]\n", &format!("[dependencies]\n{line}\n"), 1);
    std::fs::write(&manifest, text).expect("write manifest");
}

#[test]
fn the_workspace_is_tidy() {
    let output = tidy(&workspace_root());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_forbidden_edge_fails_tidy() {
    let copy = copy_workspace();
    // clap is in the lock file already (notes-cli uses it), so this resolves offline.
    add_dependency(copy.path(), "notes-algo", "clap.workspace = true");
    let output = tidy(copy.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "tidy passed with notes-algo -> clap: {stderr}"
    );
    assert!(stderr.contains("notes-algo depends on clap"), "{stderr}");
}

#[test]
fn a_library_depending_on_the_cli_fails_tidy() {
    // As a dev-dependency, because cargo itself rejects the normal-dependency cycle
    // (notes-cli depends on every library) but allows this one: tidy must catch it.
    let copy = copy_workspace();
    let manifest = copy.path().join("crates/notes-time/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read manifest");
    let text = text.replacen(
        "[dev-dependencies]\n",
        "[dev-dependencies]\nnotes-cli = { path = \"../notes-cli\" }\n",
        1,
    );
    std::fs::write(&manifest, text).expect("write manifest");
    let output = tidy(copy.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "tidy passed with notes-time -> notes-cli: {stderr}"
    );
    assert!(
        stderr.contains("notes-time depends on notes-cli: the CLI is the top of the graph"),
        "{stderr}"
    );
}

#[test]
fn bump_sets_every_version_and_dates_the_changelog() {
    let copy = copy_workspace();
    std::fs::copy(
        workspace_root().join("CHANGELOG.md"),
        copy.path().join("CHANGELOG.md"),
    )
    .expect("copy changelog");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bump", "9.8.7", "--allow-dirty", "--root"])
        .arg(copy.path())
        .output()
        .expect("run xtask bump");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let root = std::fs::read_to_string(copy.path().join("Cargo.toml")).expect("read manifest");
    assert!(root.contains("version = \"9.8.7\"\nedition"), "{root}");
    assert!(
        root.contains("notes-algo = { path = \"crates/notes-algo\", version = \"9.8.7\" }"),
        "{root}"
    );
    assert!(
        !root.contains("version = \"0.1.0\""),
        "a sibling kept the old version:\n{root}"
    );
    let changelog =
        std::fs::read_to_string(copy.path().join("CHANGELOG.md")).expect("read changelog");
    assert!(
        changelog.contains("## Unreleased\n\n## 9.8.7 - 20"),
        "{changelog}"
    );
    let lock = std::fs::read_to_string(copy.path().join("Cargo.lock")).expect("read lock");
    assert!(
        lock.contains("name = \"notes-algo\"\nversion = \"9.8.7\""),
        "Cargo.lock not updated"
    );
    // The lock file bump wrote is the one cargo itself wants: `--locked` accepts it as is.
    // cargo metadata reads the manifest of every package it reports, so it downloads what it
    // has not cached: `--filter-platform` keeps that to the host's packages (what a build here
    // downloads anyway), where a plain call wants macOS- and Windows-only ones too. Not
    // `--offline`: a fresh machine that has built only xtask has not cached even the host's
    // packages of the other crates. The resolve checked against the lock is still the whole one.
    let metadata = Command::new(cargo())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            &host_triple(),
            "--manifest-path",
        ])
        .arg(copy.path().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        metadata.status.success(),
        "cargo rejects the bumped Cargo.lock: {}",
        String::from_utf8_lossy(&metadata.stderr)
    );

    // Going backwards is refused.
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bump", "1.0.0", "--allow-dirty", "--root"])
        .arg(copy.path())
        .output()
        .expect("run xtask bump");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("is not newer than the current version 9.8.7")
    );
}

#[test]
fn a_failed_bump_changes_nothing() {
    let copy = copy_workspace();
    // A CHANGELOG without `## Unreleased`: found only after the manifests' edits are computed.
    std::fs::write(
        copy.path().join("CHANGELOG.md"),
        "# Changelog\n\n## 0.1.0 - 2026-01-01\n\n- first\n",
    )
    .expect("write changelog");
    let files = [
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
        "crates/notes-algo/Cargo.toml",
        "crates/notes-cli/Cargo.toml",
        "xtask/Cargo.toml",
    ];
    let read = |file: &str| std::fs::read(copy.path().join(file)).expect("read file");
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bump", "patch", "--allow-dirty", "--root"])
        .arg(copy.path())
        .output()
        .expect("run xtask bump");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "bump passed: {stderr}");
    assert!(
        stderr.contains("CHANGELOG.md has no `## Unreleased` section"),
        "{stderr}"
    );
    for (file, before) in files.iter().zip(before) {
        assert!(read(file) == before, "{file} was changed by a failed bump");
    }
    // No temporary file is left next to the files either.
    let mut names: Vec<String> = std::fs::read_dir(copy.path())
        .expect("list copy")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "CHANGELOG.md",
            "Cargo.lock",
            "Cargo.toml",
            "crates",
            "xtask"
        ]
    );
}

/// Replaces the first `from` in the manifest of `krate` by `to`.
fn edit_manifest(root: &Path, krate: &str, from: &str, to: &str) {
    let manifest = root.join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read manifest");
    assert!(text.contains(from), "{krate}: no `{from}` in\n{text}");
    std::fs::write(&manifest, text.replacen(from, to, 1)).expect("write manifest");
}

#[test]
fn preflight_lists_every_problem() {
    let copy = copy_workspace();
    let root = copy.path();
    // cargo itself refuses this one (`cargo package --list` fails).
    edit_manifest(
        root,
        "notes-time",
        "readme = \"README.md\"",
        "readme = \"MISSING.md\"",
    );
    let fs = std::fs::read_to_string(root.join("crates/notes-fs/Cargo.toml")).expect("read");
    let fs: String = fs
        .lines()
        .filter(|l| !l.starts_with("description =") && !l.starts_with("keywords ="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(root.join("crates/notes-fs/Cargo.toml"), fs).expect("write");
    edit_manifest(
        root,
        "notes-ipc",
        "[dependencies]\n",
        "[dependencies]\nnotes-algo = { path = \"../notes-algo\" }\n",
    );
    edit_manifest(
        root,
        "notes-prof",
        "version.workspace = true\n",
        "version.workspace = true\npublish = false\n",
    );
    edit_manifest(
        root,
        "notes-proc",
        "[dependencies]\n",
        "[dependencies]\nnotes-prof.workspace = true\n",
    );
    // An empty local index: every name is free, and nothing goes over the network.
    let index = tempfile::tempdir().expect("index dir");
    let url = format!("file://{}", index.path().display());
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["preflight", "--registry", "preflight-test", "--root"])
        .arg(root)
        .env("CARGO_REGISTRIES_PREFLIGHT_TEST_INDEX", &url)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("run xtask preflight");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "preflight passed: {stderr}");
    for expected in [
        "preflight: notes-fs: Cargo.toml has no `description`",
        "preflight: notes-fs: Cargo.toml has no `keywords`",
        "preflight: notes-time: the readme MISSING.md does not exist",
        "preflight: notes-time: `cargo package --list` failed: readme `MISSING.md` does not appear to exist",
        "preflight: notes-ipc: path dependency notes-algo has no version requirement",
        "preflight: notes-proc: depends on notes-prof, which is not publishable",
        "preflight: notes-cli: depends on notes-prof, which is not publishable",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in:\n{stderr}");
    }
    assert!(stderr.contains("error: 7 preflight problem(s)"), "{stderr}");
}

#[test]
fn an_import_cycle_in_the_cli_fails_tidy() {
    let copy = copy_workspace();
    // The handlers import the clap types; a clap module reaching back into a handler closes
    // a cycle.
    let cli = copy.path().join("crates/notes-cli/src/cli/mod.rs");
    let mut text = std::fs::read_to_string(&cli).expect("read cli/mod.rs");
    text.push_str("\n#[allow(dead_code)]\nfn planted() -> usize {\n    std::mem::size_of_val(&crate::cmd::run)\n}\n");
    std::fs::write(&cli, text).expect("write cli/mod.rs");
    let output = tidy(copy.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "tidy passed with a planted cycle: {stderr}"
    );
    assert!(
        stderr.contains("notes-cli: import cycle cli -> cmd -> cli"),
        "{stderr}"
    );
}
