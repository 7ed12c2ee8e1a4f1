//! Echo throughput and round trips of notes-ipc against iperf3 and the notes' Python scripts.
//!
//! Run with `cargo bench -p notes-ipc --bench echo` (needs `iperf3` and `python3` on PATH;
//! a missing peer is reported and skipped). Contenders alternate, five rounds each; medians.
//! Printing the report is this binary's job, hence the one allow below.

#![allow(clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notes_ipc::{echo, frame};

const ROUNDS: usize = 5;
const MIB: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);

fn main() {
    let rust_raw = Server::rust(echo::Mode::Raw);
    let rust_framed = Server::rust(echo::Mode::Framed);
    let python = Server::python();

    // 1. Throughput: 1 MiB messages for about a second, payload MB/s one way.
    let mut rust = Vec::new();
    let mut py = Vec::new();
    let mut iperf = Vec::new();
    let mut bidir = Vec::new();
    for _ in 0..ROUNDS {
        rust.push(throughput(rust_raw.addr, 1024));
        if let Some(server) = &python {
            py.push(throughput(server.addr, 16));
        }
        if let Some(rate) = iperf3(false) {
            iperf.push(rate);
        }
        if let Some(rate) = iperf3(true) {
            bidir.push(rate);
        }
    }
    let (rust, py, iperf, bidir) = (median(rust), median(py), median(iperf), median(bidir));
    println!("## throughput, 1 MiB messages, MB/s (payload, one way), median of {ROUNDS}");
    println!("rust echo (notes-ipc, raw mode)  {rust:10.0}");
    if !iperf.is_nan() {
        println!(
            "iperf3 -l 1M, one way            {iperf:10.0}   rust/iperf3 = {:.2}",
            rust / iperf
        );
    }
    if !bidir.is_nan() {
        println!(
            "iperf3 -l 1M --bidir, per way    {bidir:10.0}   rust/iperf3 bidir = {:.2}",
            rust / bidir
        );
    }
    if !py.is_nan() {
        println!(
            "python echo-server.py (recv 1024){py:10.0}   rust/python = {:.1}",
            rust / py
        );
    }

    // 2. 64-byte round trips: a framed message vs a raw write/read, p50 in µs.
    let mut framed = Vec::new();
    let mut raw = Vec::new();
    let mut py_rt = Vec::new();
    for _ in 0..ROUNDS {
        framed.push(framed_round_trip(rust_framed.addr, 2000));
        raw.push(raw_round_trip(rust_raw.addr, 2000));
        if let Some(server) = &python {
            py_rt.push(raw_round_trip(server.addr, 2000));
        }
    }
    let (framed, raw, py_rt) = (median(framed), median(raw), median(py_rt));
    println!("\n## 64-byte round trip, p50 µs, median of {ROUNDS}");
    println!("framed (notes_ipc::frame)        {framed:8.1}");
    println!(
        "raw write/read, rust server      {raw:8.1}   framed/raw = {:.2}",
        framed / raw
    );
    if !py_rt.is_nan() {
        println!("raw write/read, python server    {py_rt:8.1}");
    }

    // 3. Small serde messages per second: notes_ipc::send/recv vs multiprocessing.connection.
    let mut rust_msgs = Vec::new();
    let mut py_msgs = Vec::new();
    for _ in 0..ROUNDS {
        rust_msgs.push(rust_messages(rust_framed.addr, 20_000));
        if let Some(rate) = python_messages(20_000) {
            py_msgs.push(rate);
        }
    }
    let (rust_msgs, py_msgs) = (median(rust_msgs), median(py_msgs));
    println!("\n## small struct round trips per second (send + recv + decode), median of {ROUNDS}");
    println!("notes_ipc::send/recv (bincode)   {rust_msgs:10.0}");
    if !py_msgs.is_nan() {
        println!(
            "multiprocessing.connection       {py_msgs:10.0}   rust/python = {:.1}",
            rust_msgs / py_msgs
        );
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

struct Server {
    addr: SocketAddr,
    stop: Option<echo::Shutdown>,
    child: Option<Child>,
}

impl Server {
    fn rust(mode: echo::Mode) -> Self {
        let mut config = echo::ServerConfig::default();
        config.mode = mode;
        let server = echo::Server::bind("127.0.0.1:0", config).expect("bind");
        let addr = server.local_addr();
        let stop = Some(server.shutdown_handle());
        std::thread::spawn(move || server.serve());
        Self {
            addr,
            stop,
            child: None,
        }
    }

    /// The notes' echo-server.py, changed only to listen on a free port and to serve
    /// connections in a loop (the note's version exits after one client).
    fn python() -> Option<Self> {
        let port = free_port();
        let mut script = String::new();
        let mut in_accept = false;
        for line in include_str!("echo-server.py").lines() {
            if line.trim_start().starts_with("PORT = ") {
                script.push_str(&format!("PORT = {port}\n"));
            } else if line.trim_start().starts_with("conn, addr = s.accept()") {
                script.push_str("    while True:\n");
                in_accept = true;
                script.push_str(&format!("  {line}\n"));
            } else if in_accept {
                script.push_str(&format!("  {line}\n"));
            } else {
                script.push_str(line);
                script.push('\n');
            }
        }
        let child = match Command::new("python3")
            .arg("-c")
            .arg(&script)
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(err) => {
                println!("python3 unavailable ({err}): Python contenders skipped");
                return None;
            }
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < TIMEOUT,
                "python echo server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            addr,
            stop: None,
            child: Some(child),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            stop.shutdown();
        }
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Sends `count` MiB through the echo server (a writer thread and a reader), returns MB/s.
fn throughput(addr: SocketAddr, count: usize) -> f64 {
    let stream = echo::connect(addr, TIMEOUT).expect("connect");
    let mut reader = stream.try_clone().expect("clone");
    let mut writer = stream;
    let started = Instant::now();
    let sender = std::thread::spawn(move || {
        let block = vec![0x5a; MIB];
        for _ in 0..count {
            writer.write_all(&block).expect("write");
        }
        writer
            .shutdown(std::net::Shutdown::Write)
            .expect("half-close");
    });
    let mut buf = vec![0; MIB];
    let mut got = 0;
    while got < count * MIB {
        let n = reader.read(&mut buf).expect("read");
        assert!(n > 0, "server closed early");
        got += n;
    }
    let secs = started.elapsed().as_secs_f64();
    sender.join().expect("sender");
    (count * MIB) as f64 / secs / 1e6
}

/// `iperf3 -s -1 -B 127.0.0.1` and `iperf3 -c 127.0.0.1 -l 1M -t 2`: received MB/s. With
/// `bidir` (`--bidir`, data both ways at once, as an echo moves it) the mean of the two
/// directions' received MB/s: the like-for-like figure for an echo's one-way payload rate.
fn iperf3(bidir: bool) -> Option<f64> {
    let port = free_port().to_string();
    let mut server = Command::new("iperf3")
        .args(["-s", "-1", "-B", "127.0.0.1", "-p", &port])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| println!("iperf3 unavailable ({err}): skipped"))
        .ok()?;
    std::thread::sleep(Duration::from_millis(300));
    let mut args = vec!["-c", "127.0.0.1", "-p", &port, "-l", "1M", "-t", "2", "-J"];
    if bidir {
        args.push("--bidir");
    }
    let out = Command::new("iperf3").args(&args).output().ok();
    let _ = server.wait();
    let json: serde_json::Value = serde_json::from_slice(&out?.stdout).ok()?;
    let end = &json["end"];
    let bits = end["sum_received"]["bits_per_second"].as_f64()?;
    if !bidir {
        return Some(bits / 8.0 / 1e6);
    }
    let back = end["sum_received_bidir_reverse"]["bits_per_second"].as_f64()?;
    Some((bits + back) / 2.0 / 8.0 / 1e6)
}

/// p50 of `n` framed 64-byte round trips, in µs.
fn framed_round_trip(addr: SocketAddr, n: usize) -> f64 {
    let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
    let body = [7u8; 64];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        frame::write_frame(&mut stream, &body).expect("write");
        let back = frame::read_frame(&mut stream, 1024)
            .expect("read")
            .expect("frame");
        times.push(started.elapsed().as_secs_f64() * 1e6);
        assert_eq!(back.len(), 64);
    }
    median(times)
}

/// p50 of `n` raw 64-byte write/read round trips, in µs.
fn raw_round_trip(addr: SocketAddr, n: usize) -> f64 {
    let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
    let body = [7u8; 64];
    let mut back = [0u8; 64];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        stream.write_all(&body).expect("write");
        stream.read_exact(&mut back).expect("read");
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    median(times)
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Reading {
    id: u64,
    name: String,
    values: Vec<f64>,
}

/// Round trips per second of a small struct through the framed echo server.
fn rust_messages(addr: SocketAddr, n: usize) -> f64 {
    let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
    let msg = Reading {
        id: 1,
        name: "sensor".into(),
        values: vec![1.0, 2.0, 3.0],
    };
    let started = Instant::now();
    for _ in 0..n {
        notes_ipc::send(&mut stream, &msg).expect("send");
        let back: Reading = notes_ipc::recv(&mut stream).expect("recv").expect("frame");
        assert_eq!(back.id, 1);
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The same with Python's multiprocessing.connection (Listener echoing in a thread).
fn python_messages(n: usize) -> Option<f64> {
    let script = r#"
from multiprocessing.connection import Listener, Client
import threading, time
l = Listener(('127.0.0.1', 0))
def serve():
    c = l.accept()
    while True:
        try: m = c.recv()
        except EOFError: break
        c.send(m)
t = threading.Thread(target=serve); t.start()
c = Client(l.address)
msg = {'id': 1, 'name': 'sensor', 'values': [1.0, 2.0, 3.0]}
t0 = time.perf_counter()
for i in range(COUNT):
    c.send(msg); c.recv()
print(COUNT / (time.perf_counter() - t0))
c.close(); t.join()
"#
    .replace("COUNT", &n.to_string());
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
