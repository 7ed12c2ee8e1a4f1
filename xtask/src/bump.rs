//! `cargo xtask bump`: one version for the whole workspace, every sibling requirement with it,
//! and the CHANGELOG's `Unreleased` section dated under the new version.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use toml_edit::{DocumentMut, Item, value};

use crate::workspace::Workspace;

/// Computes the next version: `major`, `minor`, `patch`, or an explicit `X.Y.Z[-pre]`.
pub(crate) fn next_version(
    current: &semver::Version,
    how: &str,
) -> anyhow::Result<semver::Version> {
    let mut next = current.clone();
    next.pre = semver::Prerelease::EMPTY;
    next.build = semver::BuildMetadata::EMPTY;
    match how {
        "major" => {
            next.major += 1;
            next.minor = 0;
            next.patch = 0;
        }
        "minor" => {
            next.minor += 1;
            next.patch = 0;
        }
        // 1.2.3-rc.1 -> 1.2.3: a patch bump of a pre-release releases it.
        "patch" if current.pre.is_empty() => next.patch += 1,
        "patch" => {}
        explicit => {
            next = semver::Version::parse(explicit).with_context(|| {
                format!("`{explicit}` is neither major, minor, patch nor a version X.Y.Z[-pre]")
            })?;
        }
    }
    if next <= *current {
        bail!("{next} is not newer than the current version {current}");
    }
    Ok(next)
}

/// Rewrites the manifests, the lock file and the changelog of the workspace at `root`; returns
/// the new version.
///
/// Every edit is computed and checked in memory first; only when all of them succeed are the
/// files written (each through a temporary file renamed over it), so a failure such as a
/// CHANGELOG without an `Unreleased` section leaves the tree as it was.
pub(crate) fn bump(
    root: &Path,
    how: &str,
    allow_dirty: bool,
    today: &str,
) -> anyhow::Result<semver::Version> {
    if !allow_dirty {
        let status = std::process::Command::new("git")
            .current_dir(root)
            .args(["status", "--porcelain"])
            .output();
        match status {
            Ok(out) if out.status.success() && out.stdout.is_empty() => {}
            Ok(out) if out.status.success() => {
                bail!("the work tree has uncommitted changes; commit them or pass --allow-dirty")
            }
            _ => bail!(
                "{} is not a git work tree; pass --allow-dirty to bump anyway",
                root.display()
            ),
        }
    }
    let workspace = Workspace::load(root)?;
    let current = workspace.version()?;
    let next = next_version(&current, how)?;
    let plan = plan(root, &workspace, &current, &next, today)?;
    write_all(&plan)?;
    Ok(next)
}

/// One file's new contents, and its old ones (to put back if a later write fails).
#[derive(Debug)]
struct Edit {
    path: PathBuf,
    old: String,
    new: String,
}

/// Computes every edit of a bump from `current` to `next`, writing nothing.
fn plan(
    root: &Path,
    workspace: &Workspace,
    current: &semver::Version,
    next: &semver::Version,
    today: &str,
) -> anyhow::Result<Vec<Edit>> {
    let siblings: Vec<String> = workspace.crates.iter().map(|c| c.name.clone()).collect();
    let new = next.to_string();
    let mut edits = Vec::new();

    edits.push(edited(&root.join("Cargo.toml"), |doc| {
        let package = doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("package"))
            .context("no [workspace.package] table")?;
        package["version"] = value(new.as_str());
        if let Some(deps) = doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
        {
            set_sibling_versions(deps, &siblings, &new);
        }
        Ok(())
    })?);
    // The crates whose version follows `[workspace.package]` (`version.workspace = true`).
    let mut inheriting = Vec::new();
    for krate in &workspace.crates {
        edits.push(edited(&krate.manifest_path, |doc| {
            if doc
                .get("package")
                .and_then(|p| p.get("version"))
                .and_then(|v| v.get("workspace"))
                .and_then(Item::as_bool)
                == Some(true)
            {
                inheriting.push(krate.name.clone());
            }
            for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(deps) = doc.get_mut(table) {
                    set_sibling_versions(deps, &siblings, &new);
                }
            }
            if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
                for (_, target) in targets.iter_mut() {
                    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                        if let Some(deps) = target.get_mut(table) {
                            set_sibling_versions(deps, &siblings, &new);
                        }
                    }
                }
            }
            Ok(())
        })?);
    }
    // Keep Cargo.lock in step so `--locked` builds go on working.
    let lock = root.join("Cargo.lock");
    if lock.is_file() {
        let old = read(&lock)?;
        let updated = updated_lock(&old, &inheriting, &current.to_string(), &new)
            .with_context(|| format!("cannot update {}", lock.display()))?;
        edits.push(Edit {
            path: lock,
            old,
            new: updated,
        });
    }
    let changelog = root.join("CHANGELOG.md");
    let old = read(&changelog)?;
    let dated = dated_changelog(&old, &new, today)
        .with_context(|| format!("cannot date {}", changelog.display()))?;
    edits.push(Edit {
        path: changelog,
        old,
        new: dated,
    });
    edits.retain(|e| e.old != e.new);
    Ok(edits)
}

/// Writes every edit (each atomically); if one fails, puts back the files already written.
fn write_all(edits: &[Edit]) -> anyhow::Result<()> {
    for (i, edit) in edits.iter().enumerate() {
        if let Err(err) = write_atomic(&edit.path, &edit.new) {
            let mut unrestored = Vec::new();
            for done in &edits[..i] {
                if write_atomic(&done.path, &done.old).is_err() {
                    unrestored.push(done.path.display().to_string());
                }
            }
            if unrestored.is_empty() {
                return Err(err.context("nothing was changed"));
            }
            return Err(err.context(format!(
                "and these files could not be restored: {}",
                unrestored.join(", ")
            )));
        }
    }
    Ok(())
}

/// Replaces `path` with `contents` through a temporary file in the same directory, renamed
/// over it, so a reader (or a crash) sees the old file or the new one, never a mix; the file
/// keeps its permissions.
fn write_atomic(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions())
            .with_context(|| format!("cannot set the permissions of {}", tmp.path().display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Sets `version` on every sibling entry (`x = { path, version }`) of a dependency table.
fn set_sibling_versions(deps: &mut Item, siblings: &[String], new: &str) {
    let Some(deps) = deps.as_table_like_mut() else {
        return;
    };
    for (name, dep) in deps.iter_mut() {
        if !siblings.iter().any(|s| s == name.get()) {
            continue;
        }
        if let Some(table) = dep.as_table_like_mut()
            && table.contains_key("version")
        {
            table.insert("version", value(new));
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The edit of the TOML file at `path` that `change` makes (in memory).
fn edited(
    path: &Path,
    change: impl FnOnce(&mut DocumentMut) -> anyhow::Result<()>,
) -> anyhow::Result<Edit> {
    let text = read(path)?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", path.display()))?;
    change(&mut doc).with_context(|| format!("cannot edit {}", path.display()))?;
    Ok(Edit {
        path: path.to_owned(),
        new: doc.to_string(),
        old: text,
    })
}

/// Cargo.lock with the workspace `members` (no `source`) moved from version `old` to `new`,
/// and the dependency entries that name them with a version (`"notes-algo 0.1.0"`) with them.
fn updated_lock(text: &str, members: &[String], old: &str, new: &str) -> anyhow::Result<String> {
    let mut doc: DocumentMut = text.parse().context("cannot parse the lock file")?;
    let packages = doc
        .get_mut("package")
        .and_then(Item::as_array_of_tables_mut)
        .context("the lock file has no [[package]] entries")?;
    let is_member = |name: &str| members.iter().any(|m| m == name);
    let mut found = Vec::new();
    for package in packages.iter_mut() {
        let name = package.get("name").and_then(Item::as_str).unwrap_or("");
        if is_member(name)
            && !package.contains_key("source")
            && package.get("version").and_then(Item::as_str) == Some(old)
        {
            found.push(name.to_owned());
            package["version"] = value(new);
        }
        if let Some(deps) = package.get_mut("dependencies").and_then(Item::as_array_mut) {
            for i in 0..deps.len() {
                let Some(dep) = deps.get(i).and_then(|d| d.as_str()) else {
                    continue;
                };
                // `name version` without a ` (source)`: a path (workspace) package.
                let mut parts = dep.split(' ');
                if let (Some(name), Some(version), None) =
                    (parts.next(), parts.next(), parts.next())
                    && is_member(name)
                    && version == old
                {
                    let renamed = format!("{name} {new}");
                    deps.replace(i, renamed);
                }
            }
        }
    }
    let missing: Vec<&String> = members.iter().filter(|m| !found.contains(m)).collect();
    if !missing.is_empty() {
        bail!(
            "no entry at version {old} for {}; run `cargo update --workspace` first",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(doc.to_string())
}

/// The changelog with the `## Unreleased` entries moved under a new `## X.Y.Z - date` heading,
/// leaving an empty `Unreleased` section on top.
fn dated_changelog(text: &str, version: &str, today: &str) -> anyhow::Result<String> {
    let heading = "## Unreleased";
    let Some(at) = text.find(heading) else {
        bail!("CHANGELOG.md has no `{heading}` section; add one above the newest release");
    };
    let after = at + heading.len();
    Ok(format!(
        "{}{heading}\n\n## {version} - {today}{}",
        &text[..at],
        &text[after..]
    ))
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock (civil-from-days, proleptic Gregorian).
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn next_versions() {
        assert_eq!(next_version(&v("0.1.0"), "patch").unwrap(), v("0.1.1"));
        assert_eq!(next_version(&v("0.1.9"), "minor").unwrap(), v("0.2.0"));
        assert_eq!(next_version(&v("0.1.9"), "major").unwrap(), v("1.0.0"));
        assert_eq!(next_version(&v("1.0.0-rc.1"), "patch").unwrap(), v("1.0.0"));
        assert_eq!(
            next_version(&v("0.1.0"), "0.2.0-alpha.1").unwrap(),
            v("0.2.0-alpha.1")
        );
        assert!(next_version(&v("0.2.0"), "0.1.0").is_err());
        assert!(next_version(&v("0.2.0"), "bigger").is_err());
    }

    #[test]
    fn changelog_is_dated() {
        assert_eq!(
            dated_changelog(
                "# Changelog\n\n## Unreleased\n\n- a change\n",
                "0.1.1",
                "2026-11-24"
            )
            .unwrap(),
            "# Changelog\n\n## Unreleased\n\n## 0.1.1 - 2026-11-24\n\n- a change\n"
        );
    }

    #[test]
    fn a_changelog_without_unreleased_is_an_error() {
        let err = dated_changelog(
            "# Changelog\n\n## 0.1.0 - 2026-01-01\n",
            "0.1.1",
            "2026-11-24",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("no `## Unreleased` section"),
            "{err}"
        );
    }

    #[test]
    fn lock_moves_the_members_only() {
        let lock = "\
version = 4

[[package]]
name = \"notes-algo\"
version = \"0.1.0\"
dependencies = [
 \"serde\",
]

[[package]]
name = \"notes-cli\"
version = \"0.1.0\"
dependencies = [
 \"notes-algo 0.1.0\",
 \"serde\",
 \"xtask\",
]

[[package]]
name = \"serde\"
version = \"0.1.0\"
source = \"registry+https://github.com/rust-lang/crates.io-index\"

[[package]]
name = \"xtask\"
version = \"0.0.0\"
";
        let members = ["notes-algo".to_owned(), "notes-cli".to_owned()];
        let updated = updated_lock(lock, &members, "0.1.0", "0.2.0").unwrap();
        assert_eq!(
            updated,
            lock.replacen(
                "notes-algo\"\nversion = \"0.1.0\"",
                "notes-algo\"\nversion = \"0.2.0\"",
                1
            )
            .replacen(
                "notes-cli\"\nversion = \"0.1.0\"",
                "notes-cli\"\nversion = \"0.2.0\"",
                1
            )
            .replacen("\"notes-algo 0.1.0\"", "\"notes-algo 0.2.0\"", 1)
        );
        let missing = updated_lock(lock, &["notes-fs".to_owned()], "0.1.0", "0.2.0").unwrap_err();
        assert!(missing.to_string().contains("notes-fs"), "{missing}");
    }

    #[test]
    #[cfg(unix)]
    fn atomic_writes_keep_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        // Nothing is left behind but the file itself.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn sibling_versions_keep_formatting() {
        let mut doc: DocumentMut =
            "[dependencies]\n# ours\nnotes-algo = { path = \"../notes-algo\", version = \"0.1.0\" }\nserde = \"1\"\n"
                .parse()
                .unwrap();
        set_sibling_versions(
            doc.get_mut("dependencies").unwrap(),
            &["notes-algo".into()],
            "0.2.0",
        );
        assert_eq!(
            doc.to_string(),
            "[dependencies]\n# ours\nnotes-algo = { path = \"../notes-algo\", version = \"0.2.0\" }\nserde = \"1\"\n"
        );
    }

    #[test]
    fn today_is_a_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert!(t.starts_with("20"));
    }
}
