//! Read-only access to a Cargo registry's index (sparse over HTTP, or a git index on the local
//! file system such as `cargo-http-registry` writes) and to its `.crate` downloads.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sha2::Digest;

/// One version of a crate as the index lists it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) vers: semver::Version,
    pub(crate) cksum: String,
}

/// Where a registry's index lives.
#[derive(Debug, Clone)]
enum Index {
    /// `sparse+https://index.crates.io/`: one HTTP GET per crate.
    Sparse(String),
    /// `file:///path`: a git index whose working tree holds the files.
    Local(PathBuf),
}

/// A registry: `None` is crates.io.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub(crate) name: Option<String>,
    index: Index,
}

impl Registry {
    /// crates.io, or the registry called `name` in Cargo's configuration (environment variable
    /// `CARGO_REGISTRIES_<NAME>_INDEX`, `$CARGO_HOME/config.toml`, or the workspace's
    /// `.cargo/config.toml`).
    pub(crate) fn open(name: Option<&str>, root: &Path) -> anyhow::Result<Self> {
        let Some(name) = name else {
            return Ok(Self {
                name: None,
                index: Index::Sparse("https://index.crates.io/".into()),
            });
        };
        let url = index_url(name, root)?;
        let index = if let Some(rest) = url.strip_prefix("sparse+") {
            Index::Sparse(if rest.ends_with('/') {
                rest.to_owned()
            } else {
                format!("{rest}/")
            })
        } else if let Some(path) = url.strip_prefix("file://") {
            Index::Local(PathBuf::from(path))
        } else {
            bail!(
                "registry `{name}`: index {url} is neither sparse+http(s) nor file://; xtask reads only those"
            );
        };
        Ok(Self {
            name: Some(name.to_owned()),
            index,
        })
    }

    /// The registry's name as users write it.
    pub(crate) fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("crates.io")
    }

    /// Every version of `name` in the index, also under the other spelling (`-` vs `_`),
    /// since registries treat the two as one name. Empty when the name is free.
    pub(crate) fn versions(&self, name: &str) -> anyhow::Result<Vec<Entry>> {
        let mut spellings = vec![
            name.to_owned(),
            name.replace('-', "_"),
            name.replace('_', "-"),
        ];
        spellings.dedup();
        let mut entries = Vec::new();
        for spelling in spellings {
            let Some(text) = self.read_index_file(&index_path(&spelling))? else {
                continue;
            };
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let value: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{}: bad index line for {spelling}", self.label()))?;
                let field = |key: &str| {
                    value
                        .get(key)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                let vers = semver::Version::parse(&field("vers")).with_context(|| {
                    format!(
                        "{}: bad version in the index entry of {spelling}",
                        self.label()
                    )
                })?;
                entries.push(Entry {
                    name: field("name"),
                    vers,
                    cksum: field("cksum"),
                });
            }
        }
        // Some registries (crates.io) serve the same file for both spellings.
        entries.sort_by(|a, b| (&a.name, &a.vers).cmp(&(&b.name, &b.vers)));
        entries.dedup_by(|a, b| a.name == b.name && a.vers == b.vers);
        Ok(entries)
    }

    /// Downloads the `.crate` file of `name` `version`.
    pub(crate) fn download(
        &self,
        name: &str,
        version: &semver::Version,
    ) -> anyhow::Result<Vec<u8>> {
        let config = self
            .read_index_file("config.json")?
            .context("the index has no config.json")?;
        let config: serde_json::Value = serde_json::from_str(&config).context("bad config.json")?;
        let dl = config
            .get("dl")
            .and_then(|v| v.as_str())
            .context("config.json has no `dl`")?;
        let version = version.to_string();
        let url = if ["{crate}", "{version}", "{prefix}", "{lowerprefix}"]
            .iter()
            .any(|m| dl.contains(m))
        {
            dl.replace("{crate}", name)
                .replace("{version}", &version)
                .replace("{prefix}", &prefix(name))
                .replace("{lowerprefix}", &prefix(&name.to_lowercase()))
        } else {
            format!("{}/{name}/{version}/download", dl.trim_end_matches('/'))
        };
        http_get(&url)?.with_context(|| format!("{url}: not found"))
    }

    fn read_index_file(&self, relative: &str) -> anyhow::Result<Option<String>> {
        match &self.index {
            Index::Sparse(base) => {
                let url = format!("{base}{relative}");
                Ok(http_get(&url)?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
            }
            Index::Local(dir) => match std::fs::read_to_string(dir.join(relative)) {
                Ok(text) => Ok(Some(text)),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(err)
                    .with_context(|| format!("cannot read {}", dir.join(relative).display())),
            },
        }
    }
}

/// The index file of a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...` (lowercase).
fn index_path(name: &str) -> String {
    let name = name.to_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// The `{prefix}` marker of a download URL: the index directory of the name.
fn prefix(name: &str) -> String {
    let path = index_path(name);
    path.rsplit_once('/')
        .map_or(path.clone(), |(dir, _)| dir.to_owned())
}

/// GET with curl (present on Linux, macOS and Windows 10+), so xtask carries no TLS stack.
/// `Ok(None)` for 404/410 (the name or version does not exist).
fn http_get(url: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let mut body = crate::process::output(Command::new("curl").args([
        "--silent",
        "--show-error",
        "--location",
        "--max-time",
        "60",
        "--write-out",
        "\n%{http_code}",
        url,
    ]))
    .with_context(|| format!("GET {url} with curl (needed to read the registry over HTTP)"))?;
    let newline = body
        .iter()
        .rposition(|&b| b == b'\n')
        .context("curl printed no status")?;
    let status = String::from_utf8_lossy(&body[newline + 1..])
        .trim()
        .to_owned();
    body.truncate(newline);
    match status.as_str() {
        "200" => Ok(Some(body)),
        "404" | "410" | "451" => Ok(None),
        other => bail!("GET {url}: HTTP status {other}"),
    }
}

/// The SHA-256 of a `.crate` file, as the index's `cksum`.
pub(crate) fn checksum(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `package.repository` of a `.crate` archive's `Cargo.toml`, and its number of files.
pub(crate) fn inspect_crate(bytes: &[u8]) -> anyhow::Result<(Option<String>, usize)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut repository = None;
    let mut files = 0;
    for entry in archive.entries().context("not a .crate archive")? {
        let mut entry = entry.context("damaged .crate archive")?;
        files += 1;
        let path = entry.path()?.into_owned();
        if path.components().count() == 2 && path.ends_with("Cargo.toml") {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            let doc: toml_edit::DocumentMut =
                text.parse().context("bad Cargo.toml in the .crate")?;
            repository = doc
                .get("package")
                .and_then(|p| p.get("repository"))
                .and_then(|r| r.as_str())
                .map(str::to_owned);
        }
    }
    Ok((repository, files))
}

/// The index URL of registry `name` from the environment or Cargo's config files.
fn index_url(name: &str, root: &Path) -> anyhow::Result<String> {
    let env = format!(
        "CARGO_REGISTRIES_{}_INDEX",
        name.to_uppercase().replace('-', "_")
    );
    if let Ok(url) = std::env::var(&env) {
        return Ok(url);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let candidates = [
        Some(root.join(".cargo/config.toml")),
        cargo_home.map(|h| h.join("config.toml")),
    ];
    for path in candidates.into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let doc: toml_edit::DocumentMut = text
            .parse()
            .with_context(|| format!("cannot parse {}", path.display()))?;
        if let Some(url) = doc
            .get("registries")
            .and_then(|r| r.get(name))
            .and_then(|r| r.get("index"))
            .and_then(|i| i.as_str())
        {
            return Ok(url.to_owned());
        }
    }
    bail!(
        "registry `{name}` is not configured (set {env} or [registries.{name}] in a Cargo config file)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargo_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Notes-Cli"), "no/te/notes-cli");
        assert_eq!(prefix("notes-cli"), "no/te");
    }

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
