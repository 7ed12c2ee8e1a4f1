//! `cargo xtask release-e2e`: the whole release workflow against a real crates.io-compatible
//! registry (`cargo-http-registry`) on 127.0.0.1, on a staged copy of the workspace, with a
//! private `CARGO_HOME` so nothing reaches the machine's Cargo configuration.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

/// The registry's name in the private Cargo configuration.
const REGISTRY: &str = "local";

/// Stops the registry server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let server_bin = find_registry_binary()?;
    let tmp = tempfile::Builder::new()
        .prefix("notes-release-e2e-")
        .tempdir()?;
    let registry_root = tmp.path().join("registry");
    let cargo_home = tmp.path().join("cargo-home");
    let staged = tmp.path().join("workspace");

    let child = Command::new(&server_bin)
        .arg(&registry_root)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", server_bin.display()))?;
    let server = Server(child);
    let api = wait_for_api(&registry_root)?;
    println!(
        "==> registry {api} (pid {}), root {}",
        server.0.id(),
        registry_root.display()
    );

    std::fs::create_dir_all(&cargo_home)?;
    std::fs::write(
        cargo_home.join("config.toml"),
        format!(
            "[registries.{REGISTRY}]\nindex = \"file://{}\"\n",
            registry_root.display()
        ),
    )?;
    share_download_cache(&cargo_home);
    stage(root, &staged)?;

    let step =
        |name: &str, args: &[&str], envs: &[(&str, &str)]| -> anyhow::Result<(bool, String)> {
            println!("==> e2e: {name}: xtask {}", args.join(" "));
            let output = Command::new(std::env::current_exe()?)
                .args(args)
                .args(["--root"])
                .arg(&staged)
                .env("CARGO_HOME", &cargo_home)
                .env("CARGO_REGISTRIES_LOCAL_TOKEN", "e2e-token")
                .env("CARGO_TARGET_DIR", root.join("target/release-e2e"))
                .env("CARGO_TERM_COLOR", "never")
                .envs(envs.iter().copied())
                .stderr(Stdio::inherit())
                .output()
                .with_context(|| format!("cannot run xtask {name}"))?;
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            print!("{}", indent(&stdout));
            Ok((output.status.success(), stdout))
        };
    let expect_ok = |name: &str, args: &[&str]| -> anyhow::Result<String> {
        let (ok, stdout) = step(name, args, &[])?;
        ensure!(ok, "e2e step `{name}` failed");
        Ok(stdout)
    };
    let publish = [
        "publish",
        "--registry",
        REGISTRY,
        "--allow-dirty",
        "--no-verify",
        "--no-tag",
    ];
    let crates = publishable_count(root)?;

    expect_ok("bump", &["bump", "patch", "--allow-dirty"])?;
    expect_ok("preflight", &["preflight", "--registry", REGISTRY])?;
    let out = expect_ok("publish everything", &publish)?;
    ensure!(
        out.matches("Published").count() == crates,
        "expected {crates} crates published:\n{out}"
    );
    let out = expect_ok("publish again skips everything", &publish)?;
    ensure!(
        out.matches("Skipped").count() == crates,
        "expected {crates} crates skipped:\n{out}"
    );

    expect_ok("bump again", &["bump", "patch", "--allow-dirty"])?;
    let (ok, out) = step(
        "publish, failing after 3 uploads",
        &publish,
        &[("XTASK_PUBLISH_FAIL_AFTER", "3")],
    )?;
    ensure!(!ok, "the simulated partial failure did not fail:\n{out}");
    ensure!(
        out.matches("Published").count() == 3,
        "expected 3 crates before the failure:\n{out}"
    );
    let out = expect_ok("rerun resumes", &publish)?;
    ensure!(
        out.matches("Skipped").count() == 3,
        "the rerun did not skip the 3 published crates:\n{out}"
    );
    ensure!(
        out.matches("Published").count() == crates - 3,
        "the rerun did not publish the rest:\n{out}"
    );

    expect_ok("versions", &["versions", "--registry", REGISTRY])?;
    expect_ok(
        "install and run",
        &["install-check", "--registry", REGISTRY, "--debug"],
    )?;
    drop(server);
    println!(
        "release-e2e: passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn find_registry_binary() -> anyhow::Result<PathBuf> {
    let name = format!("cargo-http-registry{}", std::env::consts::EXE_SUFFIX);
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(&name))
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| {
        std::env::var_os("HOME").map(|h| {
            let mut p = PathBuf::from(h);
            p.push(".cargo");
            p.into_os_string()
        })
    }) {
        candidates.push(PathBuf::from(home).join("bin").join(&name));
    }
    candidates.into_iter().find(|p| p.is_file()).context(
        "cargo-http-registry is not installed: `cargo install cargo-http-registry --locked` (.ci/run does this)",
    )
}

/// Waits until the registry has written its `config.json` with the API address.
fn wait_for_api(root: &Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(root.join("config.json"))
            && let Ok(config) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(api) = config.get("api").and_then(|a| a.as_str())
        {
            return Ok(api.to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "the registry did not write {}/config.json within 20s",
        root.display()
    )
}

/// Lets the private Cargo home reuse the crates already downloaded from crates.io (read-mostly
/// caches; configuration is not shared). Best effort: without it cargo downloads them again.
fn share_download_cache(cargo_home: &Path) {
    #[cfg(unix)]
    {
        let Some(real) = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        else {
            return;
        };
        for sub in ["registry/cache", "registry/index"] {
            let Ok(entries) = std::fs::read_dir(real.join(sub)) else {
                continue;
            };
            let _ = std::fs::create_dir_all(cargo_home.join(sub));
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("index.crates.io-")
                {
                    let _ = std::os::unix::fs::symlink(
                        entry.path(),
                        cargo_home.join(sub).join(entry.file_name()),
                    );
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = cargo_home;
}

fn publishable_count(root: &Path) -> anyhow::Result<usize> {
    Ok(crate::workspace::Workspace::load(root)?
        .publishable()
        .count())
}

/// Copies the workspace (sources, manifests, lock file, changelog; no `target/`) to `to`, keeping
/// modification times so that packaging the copy twice gives identical archives, and points
/// every sibling dependency at the local registry. That rewrite exists only in the copy:
/// crates.io rejects dependencies on other registries.
fn stage(root: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "CHANGELOG.md",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ] {
        copy_file(&root.join(file), &to.join(file))?;
    }
    for dir in ["crates", "xtask"] {
        copy_tree(&root.join(dir), &to.join(dir))?;
    }
    let manifest = to.join("Cargo.toml");
    let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&manifest)?.parse()?;
    let deps = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(toml_edit::Item::as_table_like_mut)
        .context("no [workspace.dependencies]")?;
    for (_, dep) in deps.iter_mut() {
        if let Some(table) = dep.as_table_like_mut()
            && table.contains_key("path")
        {
            table.insert("registry", toml_edit::value(REGISTRY));
        }
    }
    std::fs::write(&manifest, doc.to_string())?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            copy_file(&entry.path(), &to.join(&name))?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
    let modified = std::fs::metadata(from)?.modified()?;
    std::fs::File::options()
        .write(true)
        .open(to)?
        .set_modified(modified)?;
    Ok(())
}
