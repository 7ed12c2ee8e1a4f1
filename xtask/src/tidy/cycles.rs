//! No import cycles between the modules of a crate: imports run one way, as in uv and
//! rust-analyzer. The module tree is read from `mod` declarations; an edge `a -> b` is a
//! `crate::`, `super::` or `self::` path in `a` naming something in `b` (a `use` of it, or a
//! path written in the code), or a path through a module alias `use crate::b;` then `b::…`.
//! A `pub use` re-export is not an edge of the module that holds it (it is the facade that
//! names things for the outside) but is followed: `crate::Error` is an edge to the module that
//! defines `Error` when the root re-exports it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::source::{code_only, line_of};

/// A module of the crate: its path (`["cmd", "algo"]`, empty for the root) and file.
#[derive(Debug)]
struct Module {
    path: Vec<String>,
    file: PathBuf,
    code: String,
    /// `use` items: the name they bind and the absolute path they name, and whether `pub`.
    uses: Vec<Use>,
    /// The names of the child modules it declares (`mod name;`).
    children: Vec<String>,
}

#[derive(Debug, Clone)]
struct Use {
    binding: String,
    target: Vec<String>,
    public: bool,
    line: usize,
}

/// Every import cycle among the modules of the crate whose root file is `root_file`
/// (`src/lib.rs`, `src/main.rs`, `tests/it/main.rs`), one message per cycle.
pub(crate) fn check(crate_name: &str, root_file: &Path) -> anyhow::Result<Vec<String>> {
    let modules = load_tree(root_file)?;
    let index: BTreeMap<Vec<String>, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.path.clone(), i))
        .collect();
    // edges[a] = b -> the first line of `a` that makes the edge.
    let mut edges: Vec<BTreeMap<usize, usize>> = vec![BTreeMap::new(); modules.len()];
    for (from, module) in modules.iter().enumerate() {
        for (path, line) in referenced_paths(module) {
            if let Some(to) = resolve(&modules, &index, &path, 0)
                && to != from
            {
                edges[from].entry(to).or_insert(line);
            }
        }
    }
    let mut problems = Vec::new();
    for cycle in cycles(&edges) {
        let names: Vec<String> = cycle.iter().map(|&m| name(&modules[m])).collect();
        let steps: Vec<String> = cycle
            .iter()
            .zip(cycle.iter().cycle().skip(1))
            .map(|(&a, &b)| {
                format!(
                    "{}:{} names {}",
                    relative(&modules[a].file, root_file),
                    edges[a][&b],
                    name(&modules[b])
                )
            })
            .collect();
        problems.push(format!(
            "{crate_name}: import cycle {} -> {} ({})",
            names.join(" -> "),
            names[0],
            steps.join("; ")
        ));
    }
    Ok(problems)
}

fn name(module: &Module) -> String {
    if module.path.is_empty() {
        "crate".to_owned()
    } else {
        module.path.join("::")
    }
}

fn relative(file: &Path, root_file: &Path) -> String {
    let base = root_file.parent().unwrap_or(Path::new(""));
    file.strip_prefix(base)
        .unwrap_or(file)
        .display()
        .to_string()
}

/// Reads the module tree from `root_file` by following `mod name;` declarations.
fn load_tree(root_file: &Path) -> anyhow::Result<Vec<Module>> {
    let mut modules = Vec::new();
    let mut pending = vec![(Vec::new(), root_file.to_path_buf(), true)];
    while let Some((path, file, owns_dir)) = pending.pop() {
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let code = code_only(&text);
        // A root file or `mod.rs` keeps its children beside it; `a.rs` keeps them in `a/`.
        let dir = if owns_dir {
            file.parent().unwrap_or(Path::new("")).to_path_buf()
        } else {
            file.with_extension("")
        };
        let (test_modules, _) = test_items(&code);
        let children: Vec<String> = declared_modules(&code)
            .into_iter()
            .filter(|child| !test_modules.contains(child))
            .collect();
        for child in children.clone() {
            let flat = dir.join(format!("{child}.rs"));
            let nested = dir.join(&child).join("mod.rs");
            let mut child_path = path.clone();
            child_path.push(child);
            if flat.is_file() {
                pending.push((child_path, flat, false));
            } else if nested.is_file() {
                pending.push((child_path, nested, true));
            }
        }
        let uses = use_items(&code, &path, &children);
        modules.push(Module {
            path,
            file,
            code,
            uses,
            children,
        });
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(modules)
}

/// `mod name;` declarations (not inline `mod name { … }` blocks, which stay in this file).
fn declared_modules(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("mod ") {
        if !word_start(code, at) {
            continue;
        }
        let rest = &code[at + 4..];
        let ident: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest.trim_start()[ident.len()..].trim_start();
        if !ident.is_empty() && after.starts_with(';') {
            found.push(ident.trim_start_matches("r#").to_owned());
        }
    }
    found
}

fn word_start(code: &str, at: usize) -> bool {
    at == 0 || {
        let before = code.as_bytes()[at - 1];
        !(before.is_ascii_alphanumeric() || before == b'_' || before == b'$')
    }
}

/// Test-only code, which sits on top of what it tests like another crate would: the names of
/// `#[cfg(test)] mod name;` files and the byte ranges of `#[cfg(test)] mod name { … }` blocks.
fn test_items(code: &str) -> (Vec<String>, Vec<(usize, usize)>) {
    let mut files = Vec::new();
    let mut blocks = Vec::new();
    for (at, attr) in code.match_indices("#[cfg(test)]") {
        let mut rest = code[at + attr.len()..].trim_start();
        // Other attributes may stand between (`#[allow(…)]`).
        while rest.starts_with("#[") {
            let Some(end) = rest.find(']') else { break };
            rest = rest[end + 1..].trim_start();
        }
        let Some(item) = rest
            .strip_prefix("mod ")
            .or_else(|| rest.strip_prefix("pub(crate) mod "))
        else {
            continue;
        };
        let ident: String = item
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = item.trim_start()[ident.len()..].trim_start();
        if after.starts_with(';') {
            files.push(ident);
        } else if after.starts_with('{') {
            let open = code.len() - after.len();
            let mut depth = 0usize;
            let mut end = code.len();
            for (i, b) in code.as_bytes()[open..].iter().enumerate() {
                match b {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            blocks.push((at, end));
        }
    }
    (files, blocks)
}

/// The inline-module depth (`mod tests { … }`) at each byte: a `super::` inside such a block
/// names the file's own module, not its parent.
fn inline_depths(code: &str) -> Vec<u8> {
    let bytes = code.as_bytes();
    let mut depths = vec![0u8; bytes.len()];
    let mut braces = 0usize;
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"mod ") && word_start(code, i) {
            let rest = &code[i + 4..];
            let ident_len = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .count();
            let after = rest.trim_start()[ident_len..].trim_start();
            if ident_len > 0 && after.starts_with('{') {
                let brace = i + 4 + (rest.len() - after.len());
                for d in &mut depths[i..brace] {
                    *d = open.len() as u8;
                }
                open.push(braces);
                braces += 1;
                i = brace + 1;
                continue;
            }
        }
        match bytes[i] {
            b'{' => braces += 1,
            b'}' => {
                braces = braces.saturating_sub(1);
                if open.last() == Some(&braces) {
                    open.pop();
                }
            }
            _ => {}
        }
        depths[i] = u8::try_from(open.len()).unwrap_or(u8::MAX);
        i += 1;
    }
    depths
}

/// Makes a path written in `module` absolute: `crate::a::b` -> `[a, b]`, `super::x` -> the
/// parent's path + `x`, `self::x` -> own path + `x`. `None` for other paths (external crates,
/// local names) and for `super` inside an inline module that stays in this file.
fn absolute(module_path: &[String], segments: &[String], inline_depth: u8) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => {
            let mut path = module_path.to_vec();
            path.extend_from_slice(&segments[1..]);
            Some(path)
        }
        "super" => {
            let supers = segments.iter().take_while(|s| *s == "super").count();
            // Inside `mod tests { … }` one `super` only leaves the inline block.
            let up = supers.checked_sub(usize::from(inline_depth))?;
            if up == 0 {
                return None;
            }
            let keep = module_path.len().checked_sub(up)?;
            let mut path = module_path[..keep].to_vec();
            path.extend_from_slice(&segments[supers..]);
            Some(path)
        }
        _ => None,
    }
}

/// The `use` items of a module, flattened: `use crate::{a, b::C as D};` gives two.
fn use_items(code: &str, module_path: &[String], children: &[String]) -> Vec<Use> {
    let depths = inline_depths(code);
    let (_, tests) = test_items(code);
    let mut uses = Vec::new();
    for (at, _) in code.match_indices("use ") {
        if !word_start(code, at) || tests.iter().any(|&(a, b)| (a..b).contains(&at)) {
            continue;
        }
        let Some(len) = code[at..].find(';') else {
            continue;
        };
        let tree = squeeze(&code[at + 4..at + len]);
        let before = code[..at].trim_end();
        let public = before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
        let line = line_of(code, at);
        let mut flat = Vec::new();
        flatten_tree(&tree, &mut Vec::new(), &mut flat);
        for (segments, binding) in flat {
            // `use child::X;` names the child module declared here, as `self::child::X` does.
            let target = if segments.first().is_some_and(|s| children.contains(s)) {
                let mut path = module_path.to_vec();
                path.extend_from_slice(&segments);
                Some(path)
            } else {
                absolute(module_path, &segments, depths[at])
            };
            let Some(target) = target else {
                continue;
            };
            uses.push(Use {
                binding,
                target,
                public,
                line,
            });
        }
    }
    uses
}

/// A use tree with whitespace removed but between two words (`b as c`), where one space stays.
fn squeeze(tree: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(tree.len());
    let mut pending_space = false;
    for c in tree.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && out.ends_with(word) && word(c) {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Splits a use tree (`crate::{a,b::{C,D as E}}`, squeezed) into paths and the name
/// each binds. A glob binds `*`.
fn flatten_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = tree[open + 1..]
            .strip_suffix('}')
            .unwrap_or(&tree[open + 1..]);
        let depth = prefix.len();
        prefix.extend(head);
        for part in split_top_level(inner) {
            flatten_tree(part, prefix, out);
        }
        prefix.truncate(depth);
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path, Some(alias)),
        None => (tree, None),
    };
    let mut segments = prefix.clone();
    segments.extend(
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    if segments.last().is_some_and(|s| s == "self") {
        segments.pop();
    }
    let Some(last) = segments.last().cloned() else {
        return;
    };
    out.push((segments, alias.map_or(last, str::to_owned)));
}

fn split_top_level(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Every path the module's code names inside the crate, absolute, with its line: `use` items
/// (not `pub use` re-exports), paths written in the code, and paths through module aliases.
fn referenced_paths(module: &Module) -> Vec<(Vec<String>, usize)> {
    let mut found: Vec<(Vec<String>, usize)> = module
        .uses
        .iter()
        .filter(|u| !u.public)
        .map(|u| (u.target.clone(), u.line))
        .collect();
    let code = &module.code;
    let depths = inline_depths(code);
    let aliases: BTreeMap<&str, &Use> = module
        .uses
        .iter()
        .filter(|u| u.binding != "*")
        .map(|u| (u.binding.as_str(), u))
        .collect();
    let spans = use_spans(code);
    let (_, tests) = test_items(code);
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') || !word_start(code, i) {
            i += 1;
            continue;
        }
        let start = i;
        let mut segments = Vec::new();
        loop {
            let len = code[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .map(char::len_utf8)
                .sum::<usize>();
            if len == 0 {
                break;
            }
            segments.push(code[i..i + len].to_owned());
            i += len;
            if code[i..].starts_with("::") {
                i += 2;
            } else {
                break;
            }
        }
        let inside =
            |ranges: &[(usize, usize)]| ranges.iter().any(|&(a, b)| (a..b).contains(&start));
        if segments.len() < 2 || inside(&spans) || inside(&tests) {
            continue;
        }
        let line = line_of(code, start);
        if let Some(path) = absolute(&module.path, &segments, depths[start]) {
            found.push((path, line));
        } else if let Some(alias) = aliases.get(segments[0].as_str()) {
            let mut path = alias.target.clone();
            path.extend_from_slice(&segments[1..]);
            found.push((path, line));
        } else if depths[start] == 0 && module.children.contains(&segments[0]) {
            // `mod fast;` puts `fast` in scope: `fast::go()` names the child.
            let mut path = module.path.clone();
            path.extend_from_slice(&segments);
            found.push((path, line));
        }
    }
    found
}

/// The byte ranges of the `use …;` items of `code` (those are read by `use_items`).
fn use_spans(code: &str) -> Vec<(usize, usize)> {
    code.match_indices("use ")
        .filter(|(at, _)| word_start(code, *at))
        .filter_map(|(at, _)| code[at..].find(';').map(|len| (at, at + len)))
        .collect()
}

/// The module a path leads to: the deepest module on it, then through that module's own `use`
/// of the next name (a re-export or import), up to a few hops.
fn resolve(
    modules: &[Module],
    index: &BTreeMap<Vec<String>, usize>,
    path: &[String],
    hops: usize,
) -> Option<usize> {
    let mut depth = path.len();
    let found = loop {
        if let Some(&m) = index.get(&path[..depth]) {
            break m;
        }
        depth = depth.checked_sub(1)?;
    };
    let Some(next) = path.get(depth) else {
        return Some(found);
    };
    if hops < 8
        && let Some(reexport) = modules[found].uses.iter().find(|u| &u.binding == next)
    {
        let mut target = reexport.target.clone();
        target.extend_from_slice(&path[depth + 1..]);
        return resolve(modules, index, &target, hops + 1).or(Some(found));
    }
    Some(found)
}

/// The cycles of the graph, one per strongly connected component with more than one module,
/// each as a shortest cycle through the component's first module.
fn cycles(edges: &[BTreeMap<usize, usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let reach = |from: usize| -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(m) = stack.pop() {
            for &next in edges[m].keys() {
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        seen
    };
    let reachable: Vec<BTreeSet<usize>> = (0..n).map(reach).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for start in 0..n {
        if done.contains(&start) || !reachable[start].contains(&start) {
            continue;
        }
        let component: BTreeSet<usize> = (0..n)
            .filter(|&m| reachable[start].contains(&m) && reachable[m].contains(&start))
            .collect();
        done.extend(component.iter().copied());
        // Breadth-first from `start` back to `start` inside the component.
        let mut previous: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(m) = queue.pop_front() {
            for &next in edges[m].keys() {
                if !component.contains(&next) {
                    continue;
                }
                if next == start {
                    let mut cycle = vec![m];
                    let mut at = m;
                    while at != start {
                        at = previous[&at];
                        cycle.push(at);
                    }
                    cycle.reverse();
                    found.push(cycle);
                    break 'search;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(next) {
                    e.insert(m);
                    queue.push_back(next);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (path, text) under a temp dir and checks the crate rooted at `lib.rs`.
    fn check_files(files: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }
        check("demo", &dir.path().join("lib.rs")).expect("check")
    }

    #[test]
    fn a_planted_cycle_fails() {
        let problems = check_files(&[
            ("lib.rs", "//! Root.\nmod a;\nmod b;\n"),
            ("a.rs", "//! A.\nuse crate::b::Thing;\n"),
            (
                "b.rs",
                "//! B.\npub struct Thing;\nfn f() { crate::a::g(); }\n",
            ),
        ]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("demo: import cycle a -> b -> a (a.rs:2 names b; b.rs:3 names a)"),
            "{problems:?}"
        );
    }

    #[test]
    fn one_way_imports_pass() {
        let problems = check_files(&[
            (
                "lib.rs",
                "//! Root.\nmod error;\nmod walk;\npub use error::Error;\npub use walk::walk;\n",
            ),
            ("error.rs", "//! Leaf.\npub struct Error;\n"),
            (
                "walk/mod.rs",
                "//! Walk.\nmod fast;\nuse crate::Error;\npub fn walk() -> Result<(), Error> { fast::go() }\n\
                 #[cfg(test)]\nmod tests {\n    use super::*;\n    fn t() { super::walk(); }\n}\n",
            ),
            (
                "walk/fast.rs",
                "//! Fast.\nuse super::super::error::Error;\npub(super) fn go() -> Result<(), Error> { Ok(()) }\n",
            ),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn test_code_is_not_part_of_the_graph() {
        // Shared test helpers in `tests.rs` use the module, whose inline tests use the helpers.
        let problems = check_files(&[
            ("lib.rs", "//! Root.\nmod bwt;\n"),
            (
                "bwt/mod.rs",
                "//! Bwt.\nmod forward;\n#[cfg(test)]\nmod tests;\npub fn bwt() { forward::run() }\n",
            ),
            (
                "bwt/forward.rs",
                "//! Forward.\npub fn run() {}\n#[cfg(test)]\nmod tests {\n    use crate::bwt::tests::naive;\n    fn t() { super::super::bwt(); }\n}\n",
            ),
            (
                "bwt/tests.rs",
                "//! Helpers.\npub fn naive() { crate::bwt::bwt() }\n",
            ),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_cycle_through_a_reexport_or_an_alias_fails() {
        // `walk` re-exports `Warning` from its child `fast`, and `fast` uses `walk`'s own items:
        // the cycle goes through the facade. `cmd` uses `cli` through an alias.
        let problems = check_files(&[
            ("lib.rs", "//! Root.\nmod walk;\nmod cli;\nmod cmd;\n"),
            (
                "walk.rs",
                "//! Walk.\nmod fast;\npub use fast::Warning;\npub fn helper() {}\nfn f() { fast::go(); }\n",
            ),
            (
                "walk/fast.rs",
                "//! Fast.\npub struct Warning;\npub fn go() { super::helper(); }\n",
            ),
            ("cli.rs", "//! Cli.\npub struct Args(crate::cmd::Run);\n"),
            (
                "cmd.rs",
                "//! Cmd.\nuse crate::cli;\npub struct Run;\nfn f(_: cli::Args) {}\n",
            ),
        ]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("import cycle cli -> cmd -> cli"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("import cycle walk -> walk::fast -> walk"),
            "{problems:?}"
        );
    }
}
