//! Source conventions of every `.rs` file: it opens with a `//!` line saying what it is for,
//! and `unsafe` is opted into per site (`#[allow(unsafe_code)]` beside a `// SAFETY:` comment,
//! never for a whole module or crate).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::source::{code_only, line_of};

/// Whether the attribute on line `at` (0-based) has a `// SAFETY:` comment beside it: in the
/// run of comment and attribute lines it belongs to (above one statement or item), or on the
/// unsafe statement itself.
fn explained(lines: &[&str], at: usize) -> bool {
    let beside = |l: &str| {
        let l = l.trim_start();
        l.starts_with("//") || l.starts_with("#[")
    };
    let mut first = at;
    while first > 0 && beside(lines[first - 1]) {
        first -= 1;
    }
    let mut last = at;
    while last + 1 < lines.len() && beside(lines[last + 1]) {
        last += 1;
    }
    // The statement or item the run stands above may carry the comment at its end.
    let statement = lines.get(last + 1).copied().unwrap_or("");
    lines[first..=last].iter().any(|l| l.contains("SAFETY:")) || statement.contains("SAFETY:")
}

/// Every `.rs` file of the workspace at `root` that tidy reads: the crates' and xtask's sources,
/// tests, benches, examples and fuzz targets (never `target/`).
pub(crate) fn rust_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("crates"), root.join("xtask")];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("cannot list {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type()?.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The problems of one file's text, named by `shown` (its path relative to the root).
pub(crate) fn check_file(shown: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // A crate root may take its doc from the README instead (`#![doc = include_str!(…)]`).
    if !first.starts_with("//!") && !first.starts_with("#![doc = include_str!(") {
        problems.push(format!(
            "{shown}: must open with a `//!` line saying what the file is for"
        ));
    }
    let code = code_only(text);
    let lines: Vec<&str> = text.lines().collect();
    for (at, _) in code.match_indices("allow(unsafe_code)") {
        let line = line_of(&code, at);
        let attribute = code[..at].rsplit('\n').next().unwrap_or("");
        if attribute.trim_start().starts_with("#![") {
            problems.push(format!(
                "{shown}:{line}: `#![allow(unsafe_code)]` opts a whole module in; put \
                 `#[allow(unsafe_code)]` on each unsafe statement or item instead"
            ));
            continue;
        }
        if !explained(&lines, line - 1) {
            problems.push(format!(
                "{shown}:{line}: `#[allow(unsafe_code)]` without a `// SAFETY:` comment beside it"
            ));
        }
    }
    problems
}

/// The workspace lint policy that makes every unsafe site opt in.
pub(crate) fn check_lint_policy(manifest: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let manifest = format!("\n{manifest}");
    let section = |name: &str| {
        manifest
            .split("\n[")
            .find(|s| s.starts_with(name))
            .unwrap_or("")
    };
    if !section("workspace.lints.rust]")
        .lines()
        .any(|l| l.replace(' ', "") == "unsafe_code=\"warn\"")
    {
        problems.push(
            "Cargo.toml: [workspace.lints.rust] must set unsafe_code = \"warn\" (each site opts in)"
                .to_owned(),
        );
    }
    if !section("workspace.lints.clippy]")
        .lines()
        .any(|l| l.replace(' ', "") == "undocumented_unsafe_blocks=\"warn\"")
    {
        problems.push(
            "Cargo.toml: [workspace.lints.clippy] must set undocumented_unsafe_blocks = \"warn\""
                .to_owned(),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_module_doc_fails() {
        let problems = check_file("src/error.rs", "use std::fmt;\n//! Too late.\n");
        assert_eq!(
            problems,
            ["src/error.rs: must open with a `//!` line saying what the file is for"]
        );
        assert!(check_file("src/ok.rs", "\n//! Errors.\nuse std::fmt;\n").is_empty());
    }

    #[test]
    fn unsafe_opts_in_per_site_with_a_reason() {
        let crate_wide = "//! Doc.\n#![allow(unsafe_code)]\nfn f() {}\n";
        assert!(check_file("a.rs", crate_wide)[0].contains("opts a whole module in"));
        let silent =
            "//! Doc.\nfn f() {\n    #[allow(unsafe_code)]\n    let x = unsafe { g() };\n}\n";
        assert_eq!(
            check_file("a.rs", silent),
            ["a.rs:3: `#[allow(unsafe_code)]` without a `// SAFETY:` comment beside it"]
        );
        let explained = "//! Doc.\nfn f() {\n    // SAFETY: g has no preconditions.\n    #[allow(unsafe_code)]\n    let x = unsafe { g() };\n}\n";
        assert!(check_file("a.rs", explained).is_empty());
        let long = "//! Doc.\nfn f() {\n    // SAFETY: the pointers describe the views exactly,\n    // the shapes agree,\n    // nothing overlaps,\n    // and gemm writes only `out`,\n    // which it implements.\n    #[allow(unsafe_code)]\n    unsafe { g() }\n}\n";
        assert!(check_file("a.rs", long).is_empty());
        let far = "//! Doc.\n// SAFETY: about something else.\nfn g() {}\n\n#[allow(unsafe_code)]\nfn f() { unsafe { g() } }\n";
        assert_eq!(check_file("a.rs", far).len(), 1);
        // Prose that mentions the attribute is not an attribute.
        assert!(check_file("a.rs", "//! Say `#![allow(unsafe_code)]` here.\n").is_empty());
    }

    #[test]
    fn the_lint_policy_is_required() {
        let without = "[workspace.lints.rust]\nmissing_docs = \"warn\"\n\n[workspace.lints.clippy]\nall = \"warn\"\n";
        assert_eq!(check_lint_policy(without).len(), 2);
        let with = "[workspace.lints.rust]\nunsafe_code = \"warn\"\n\n[workspace.lints.clippy]\nundocumented_unsafe_blocks = \"warn\"\n";
        assert!(check_lint_policy(with).is_empty());
    }
}
