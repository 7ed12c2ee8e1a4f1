//! Subcommands backed by `notes-algo`.

use std::io::{Read, Write};

use anyhow::Context;
use clap::Args;
use serde_json::Value;

use crate::output::Out;

/// Arguments of `notes flatten`.
#[derive(Debug, Args)]
pub(crate) struct FlattenArgs {
    /// A JSON list, or `-` to read JSON from stdin.
    #[arg(
        value_name = "JSON",
        help = "A JSON list such as '[[0, 1, [2]], 3]', or `-` to read JSON from stdin"
    )]
    input: String,
}

/// `notes flatten JSON`: prints the leaves as a list, `[0, 1, 2, 3]`.
#[tracing::instrument(skip_all)]
pub(crate) fn flatten(args: &FlattenArgs, out: &mut Out) -> anyhow::Result<()> {
    let (text, source) = if args.input == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read JSON from stdin")?;
        (text, "stdin")
    } else {
        (args.input.clone(), "the argument")
    };
    let nested = notes_algo::parse_json(&text).with_context(|| format!("cannot parse {source}"))?;
    let leaves = nested.flatten();
    if out.json {
        return out.json(&leaves);
    }
    writeln!(out, "{}", python_list(&leaves))?;
    Ok(())
}

/// Formats values the way Python prints a list: `[0, 1, 'a']` is written `[0, 1, "a"]`
/// (JSON scalars, `", "` separators), so the output is also valid JSON.
pub(crate) fn python_list(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}
