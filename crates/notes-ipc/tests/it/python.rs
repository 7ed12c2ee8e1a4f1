//! Interop with CPython: its pickles read here, ours read there, and the notes' scripts
//! against the Rust servers. Skipped only where python3 is missing and CI is not set.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::thread;

use notes_ipc::{Limits, echo, frame, pickle};

use crate::{Running, TIMEOUT};

/// `python3 -c SCRIPT ARGS...`, or `None` when there is no python3 (an error in CI).
pub(crate) fn python(script: &str, args: &[&str]) -> Option<Output> {
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output();
    match run {
        Ok(out) => {
            assert!(
                out.status.success(),
                "python3 failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out)
        }
        Err(err) if std::env::var_os("CI").is_none() => {
            let _ = writeln!(std::io::stderr(), "skipping: python3 cannot run ({err})");
            None
        }
        Err(err) => panic!("python3 is required in CI: {err}"),
    }
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Plain data; dicts print in insertion order, as Python prints them.
const DATA: &str = r#"[
    [1, 2, 3, 5],
    {"z": (1, "two", 3.5), "b": b"\x00\xffbytes", "c": None, "d": [True, False], "e": 2**100, "f": -7},
    ("tuple",), (), [], {}, "quote's", 1e16, 0.0001, 1e-05, -2**63, frozenset({1}), bytearray(b"ba"),
    b"", bytearray(), set(), frozenset(),
]"#;

#[test]
fn rust_reads_what_python_pickled_in_every_protocol() {
    let script = format!(
        "import pickle\ndata = {DATA}\nfor p in range(6): print(pickle.dumps(data, protocol=p).hex())\nprint(repr(data))"
    );
    let Some(out) = python(&script, &[]) else {
        return;
    };
    let text = stdout(&out);
    let mut lines: Vec<&str> = text.lines().collect();
    let expected = lines.pop().expect("repr line").to_string();
    assert_eq!(lines.len(), 6);
    for (protocol, hex) in lines.iter().enumerate() {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let value = pickle::from_slice(&bytes, &Limits::default())
            .unwrap_or_else(|err| panic!("protocol {protocol}: {err}"));
        assert_eq!(
            pickle::repr(&value).expect("repr"),
            expected,
            "protocol {protocol}"
        );
    }
}

#[test]
fn python_reads_what_rust_pickled() {
    #[derive(serde::Serialize)]
    struct Run {
        name: String,
        losses: Vec<f64>,
        shape: (u32, u32),
        done: Option<bool>,
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.pkl");
    let run = Run {
        name: "run 1".into(),
        losses: vec![0.5, 0.25],
        shape: (2, 3),
        done: None,
    };
    pickle::save(&path, &run).expect("save");
    let script = "import pickle, sys\nwith open(sys.argv[1], 'rb') as f: x = pickle.load(f)\nprint(sorted(x.items()))";
    let Some(out) = python(script, &[path.to_str().expect("utf-8 path")]) else {
        return;
    };
    assert_eq!(
        stdout(&out).trim(),
        "[('done', None), ('losses', [0.5, 0.25]), ('name', 'run 1'), ('shape', (2, 3))]"
    );
}

#[test]
fn the_notes_echo_client_talks_to_the_rust_server() {
    let server = Running::start(echo::Mode::Raw, 16);
    // The script from the notes, byte for byte except for the port.
    let script = include_str!("echo-client.py")
        .replace("PORT = 65432", &format!("PORT = {}", server.addr.port()));
    let Some(out) = python(&script, &[]) else {
        return;
    };
    assert_eq!(stdout(&out), "Received b'Hello, world'\n");
    let report = server.stop();
    assert_eq!((report.connections, report.bytes), (1, 12));
}

#[test]
fn a_multiprocessing_client_talks_to_a_rust_framed_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // A Rust server that unpickles each object, appends the sum of its numbers, and replies.
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        let mut served = 0;
        while let Some(value) = frame::recv_pickle(&mut stream, &Limits::default()).expect("recv") {
            let pickle::Value::List(items) = value else {
                panic!("a list, got {value:?}")
            };
            let mut items = items.to_vec();
            let sum: i64 = items
                .iter()
                .map(|v| if let pickle::Value::Int(i) = v { *i } else { 0 })
                .sum();
            items.push(pickle::Value::Int(sum));
            frame::write_frame(
                &mut stream,
                &pickle::value_to_vec(&pickle::Value::List(items.into())).expect("pickle"),
            )
            .expect("send");
            served += 1;
        }
        served
    });
    let script = format!(
        "from multiprocessing.connection import Client\n\
         with Client(('127.0.0.1', {port})) as c:\n\
         \x20   c.send([1, 2, 3, 5]); print(c.recv())\n\
         \x20   c.send(list(range(10000))); print(c.recv()[-1])"
    );
    let Some(out) = python(&script, &[]) else {
        // Unblock the accept so the thread ends.
        let _ = std::net::TcpStream::connect(("127.0.0.1", port)).map(|mut s| s.flush());
        let _ = server.join();
        return;
    };
    assert_eq!(stdout(&out), "[1, 2, 3, 5, 11]\n49995000\n");
    assert_eq!(server.join().expect("server thread"), 2);
}
