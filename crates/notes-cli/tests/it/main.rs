//! Integration tests of the `notes` binary: one test binary for the crate (fast linking).

mod algo;
mod bwt;
mod cli;
mod docs;
mod fs;
mod ipc;
mod proc;
mod prof;
mod tensor;
mod time;

/// Runs `command` with `stdin` written to its standard input from a thread, and collects its
/// output. The command may stop reading early (a limit): the broken pipe is expected then.
fn output_with_stdin(mut command: std::process::Command, stdin: Vec<u8>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || drop(pipe.write_all(&stdin)));
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}
