//! `cargo xtask bump`: one version for the whole workspace, every sibling requirement with it,
//! and the CHANGELOG's `Unreleased` section dated under the new version.

use std::path::Path;

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

/// Rewrites the manifests and the changelog of the workspace at `root`; returns the new version.
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
    let siblings: Vec<String> = workspace.crates.iter().map(|c| c.name.clone()).collect();
    let new = next.to_string();

    let manifest = root.join("Cargo.toml");
    edit(&manifest, |doc| {
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
    })?;
    for krate in &workspace.crates {
        edit(&krate.manifest_path, |doc| {
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
        })?;
    }
    date_changelog(&root.join("CHANGELOG.md"), &new, today)?;
    // Keep Cargo.lock in step so `--locked` builds go on working.
    crate::run(
        crate::cargo()
            .current_dir(root)
            .args(["update", "--workspace", "--offline"]),
    )
    .or_else(|_| {
        crate::run(
            crate::cargo()
                .current_dir(root)
                .args(["update", "--workspace"]),
        )
    })?;
    Ok(next)
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

fn edit(
    path: &Path,
    change: impl FnOnce(&mut DocumentMut) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("cannot parse {}", path.display()))?;
    change(&mut doc).with_context(|| format!("cannot edit {}", path.display()))?;
    let updated = doc.to_string();
    if updated != text {
        std::fs::write(path, updated)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Moves the `## Unreleased` entries under a new `## X.Y.Z - date` heading, leaving an empty
/// `Unreleased` section on top.
fn date_changelog(path: &Path, version: &str, today: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let heading = "## Unreleased";
    let Some(at) = text.find(heading) else {
        bail!("{} has no `{heading}` section", path.display());
    };
    let after = at + heading.len();
    let updated = format!(
        "{}{heading}\n\n## {version} - {today}{}",
        &text[..at],
        &text[after..]
    );
    std::fs::write(path, updated).with_context(|| format!("cannot write {}", path.display()))
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
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CHANGELOG.md");
        std::fs::write(&path, "# Changelog\n\n## Unreleased\n\n- a change\n").unwrap();
        date_changelog(&path, "0.1.1", "2026-11-24").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# Changelog\n\n## Unreleased\n\n## 0.1.1 - 2026-11-24\n\n- a change\n"
        );
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
