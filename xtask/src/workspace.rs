//! The workspace as the release commands see it: its crates, their shared version and the
//! order in which they must be published.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cargo_metadata::{DependencyKind, MetadataCommand};

/// One publishable crate of the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Crate {
    pub(crate) name: String,
    pub(crate) version: semver::Version,
    pub(crate) manifest_path: PathBuf,
    /// Sibling crates this one needs from the registry (normal and build dependencies).
    pub(crate) siblings: BTreeSet<String>,
    pub(crate) publishable: bool,
    pub(crate) metadata: cargo_metadata::Package,
}

/// The workspace's crates, in publish order (every crate after the siblings it depends on).
#[derive(Debug)]
pub(crate) struct Workspace {
    pub(crate) crates: Vec<Crate>,
}

impl Workspace {
    pub(crate) fn load(root: &Path) -> anyhow::Result<Self> {
        let metadata = MetadataCommand::new()
            .manifest_path(root.join("Cargo.toml"))
            .no_deps()
            .exec()
            .with_context(|| format!("cannot read the workspace at {}", root.display()))?;
        let names: BTreeSet<String> = metadata
            .workspace_packages()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        let mut crates: BTreeMap<String, Crate> = BTreeMap::new();
        for package in metadata.workspace_packages() {
            let siblings = package
                .dependencies
                .iter()
                .filter(|d| {
                    d.kind != DependencyKind::Development && names.contains(d.name.as_str())
                })
                .map(|d| d.name.clone())
                .collect();
            // `publish = []` (or `false`) means no registry may receive the crate.
            let publishable = package
                .publish
                .as_ref()
                .is_none_or(|registries| !registries.is_empty());
            crates.insert(
                package.name.to_string(),
                Crate {
                    name: package.name.to_string(),
                    version: package.version.clone(),
                    manifest_path: package.manifest_path.clone().into(),
                    siblings,
                    publishable,
                    metadata: (*package).clone(),
                },
            );
        }
        let order = topological(&crates)?;
        let crates = order
            .into_iter()
            .filter_map(|name| crates.remove(&name))
            .collect();
        Ok(Self { crates })
    }

    /// The crates that may be published, in dependency order.
    pub(crate) fn publishable(&self) -> impl Iterator<Item = &Crate> {
        self.crates.iter().filter(|c| c.publishable)
    }

    /// `--exclude NAME` for every crate that must not be published, for workspace-wide
    /// `cargo package`/`cargo publish`.
    pub(crate) fn exclude_unpublishable(&self) -> Vec<&str> {
        self.crates
            .iter()
            .filter(|c| !c.publishable)
            .flat_map(|c| ["--exclude", c.name.as_str()])
            .collect()
    }

    /// The shared version (`[workspace.package] version`), read from the publishable crates.
    pub(crate) fn version(&self) -> anyhow::Result<semver::Version> {
        let versions: BTreeSet<&semver::Version> = self.publishable().map(|c| &c.version).collect();
        match versions.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => Ok((*one).clone()),
            [] => bail!("the workspace has no publishable crate"),
            many => bail!("the publishable crates disagree on their version: {many:?}"),
        }
    }
}

/// Orders crates so that each comes after its siblings (Kahn's algorithm, alphabetical ties).
fn topological(crates: &BTreeMap<String, Crate>) -> anyhow::Result<Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    let mut left: BTreeSet<&String> = crates.keys().collect();
    while !left.is_empty() {
        let ready: Vec<&String> = left
            .iter()
            .copied()
            .filter(|name| crates[*name].siblings.iter().all(|dep| done.contains(dep)))
            .collect();
        if ready.is_empty() {
            bail!("the crates {left:?} depend on each other in a cycle");
        }
        for name in ready {
            left.remove(name);
            done.push(name.clone());
        }
    }
    Ok(done)
}
