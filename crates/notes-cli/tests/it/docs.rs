//! Every `console` example in `docs/*.md`, `README.md` and `tests/cmd/*.toml` is run against
//! the `notes` binary, so the docs cannot drift from it.
//!
//! In Markdown, a ```console block holds `$ notes ...` lines followed by the expected output;
//! `[..]` matches the rest of a line and `...` any number of lines (trycmd's redactions),
//! `[CWD]` is the directory the command ran in. Examples run in the page's directory.

#[test]
fn docs_examples() {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/*.md");
    let cases = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/*.toml");
    trycmd::TestCases::new()
        .register_bin("notes", trycmd::cargo::cargo_bin!("notes"))
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .case(docs)
        .case(cases);
}
