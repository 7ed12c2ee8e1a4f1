//! The echo server with many clients at once, some of them hostile.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use notes_ipc::{echo, frame};

use crate::{Running, TIMEOUT};

#[test]
fn two_hundred_concurrent_clients_get_their_own_bytes_back() {
    let server = Running::start(echo::Mode::Raw, 1024);
    let addr = server.addr;
    let clients: Vec<_> = (0..200u32)
        .map(|id| {
            thread::spawn(move || {
                let message: Vec<u8> = (0..4096u32)
                    .map(|i| (i.wrapping_mul(31) ^ id) as u8)
                    .collect();
                for _ in 0..3 {
                    let reply = echo::send(addr, &message, TIMEOUT).expect("echo");
                    assert_eq!(reply, message, "client {id}");
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
    let report = server.stop();
    assert_eq!(report.connections, 600);
    assert_eq!(report.bytes, 600 * 4096);
    assert_eq!(report.failed, 0);
}

#[test]
fn hostile_clients_do_not_disturb_the_others() {
    let server = Running::start(echo::Mode::Framed, 64);
    let addr = server.addr;
    let good: Vec<_> = (0..50u64)
        .map(|id| {
            thread::spawn(move || {
                let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
                for round in 0..20u64 {
                    notes_ipc::send(&mut stream, &(id, round, vec![id; 100])).expect("send");
                    let back: (u64, u64, Vec<u64>) = notes_ipc::recv(&mut stream)
                        .expect("recv")
                        .expect("a frame");
                    assert_eq!(back, (id, round, vec![id; 100]));
                }
            })
        })
        .collect();
    let hostile: Vec<Vec<u8>> = vec![
        // A 2^32 - 1 length, i.e. the 8-byte extension announcing 2^32 bytes.
        [vec![0xff; 4], (1u64 << 32).to_be_bytes().to_vec()].concat(),
        // Announces 16 MiB + 1.
        ((16u32 << 20) + 1).to_be_bytes().to_vec(),
        // Half a header, then gone.
        vec![0, 0],
        // A header for 100 bytes, 10 bytes of body, then gone.
        [100u32.to_be_bytes().to_vec(), vec![7; 10]].concat(),
        // Garbage.
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
    ];
    let bad: Vec<_> = hostile
        .into_iter()
        .cycle()
        .take(50)
        .map(|bytes| {
            thread::spawn(move || {
                let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
                stream.write_all(&bytes).expect("write");
                stream
                    .shutdown(std::net::Shutdown::Write)
                    .expect("half-close");
                // The server must close on us (or answer nothing), not hang or crash.
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink);
            })
        })
        .collect();
    for t in good.into_iter().chain(bad) {
        t.join().expect("client thread");
    }
    // Still serving after all that.
    let mut stream = echo::connect(addr, TIMEOUT).expect("connect");
    frame::write_frame(&mut stream, b"still here").expect("write");
    assert_eq!(
        frame::read_frame(&mut stream, 1 << 20)
            .expect("read")
            .as_deref(),
        Some(&b"still here"[..])
    );
    drop(stream);
    let report = server.stop();
    // The garbage client's "GET " reads as a frame of 1.2 GB: refused like the others.
    assert_eq!(report.failed, 50, "{report:?}");
    assert_eq!(report.connections, 101);
}

#[test]
fn the_connection_limit_queues_clients_instead_of_failing_them() {
    let server = Running::start(echo::Mode::Raw, 2);
    let addr = server.addr;
    let clients: Vec<_> = (0..20u8)
        .map(|id| {
            thread::spawn(move || {
                echo::send(addr, &[id; 1000], TIMEOUT).expect("echo") == [id; 1000]
            })
        })
        .collect();
    assert!(clients.into_iter().all(|c| c.join().expect("client")));
    assert_eq!(server.stop().connections, 20);
}

#[test]
fn shutdown_closes_idle_connections() {
    let mut framed = echo::ServerConfig::default();
    framed.mode = echo::Mode::Framed;
    framed.idle_timeout = TIMEOUT;
    // Raw "hello", and the same as one frame (a 4-byte length, then the body).
    let cases = raw_configs()
        .map(|config| (config, b"hello".to_vec()))
        .into_iter()
        .chain([(framed, b"\0\0\0\x05hello".to_vec())]);
    for (config, message) in cases {
        let what = format!("{:?}, zero_copy {}", config.mode, config.zero_copy);
        let server = Running::with(config);
        let mut idle = echo::connect(server.addr, TIMEOUT).expect("connect");
        idle.write_all(&message).expect("write");
        let mut back = vec![0u8; message.len()];
        idle.read_exact(&mut back).expect("echo");
        assert_eq!(back, message, "{what}");
        let started = std::time::Instant::now();
        let report = server.stop();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // The bytes echoed on the connection still open count; its closing by the
        // shutdown is not a failure.
        assert_eq!(
            (report.connections, report.bytes, report.failed),
            (1, message.len() as u64, 0),
            "{what}"
        );
        assert_eq!(idle.read(&mut back).expect("eof"), 0, "{what}");
    }
}

/// Both raw paths: zero-copy (`splice` on Linux) and copying.
fn raw_configs() -> [echo::ServerConfig; 2] {
    [true, false].map(|zero_copy| {
        let mut config = echo::ServerConfig::default();
        config.zero_copy = zero_copy;
        config.idle_timeout = TIMEOUT;
        config
    })
}

#[test]
fn a_raw_stream_of_megabytes_comes_back_intact() {
    for config in raw_configs() {
        let server = Running::with(config.clone());
        let len = 16 << 20;
        let message: Vec<u8> = (0..len).map(|i: usize| (i % 253) as u8).collect();
        let stream = echo::connect(server.addr, TIMEOUT).expect("connect");
        let mut reader = stream.try_clone().expect("clone");
        let sent = message.clone();
        let writer = thread::spawn(move || {
            let mut stream = stream;
            for chunk in sent.chunks(100_003) {
                stream.write_all(chunk).expect("write");
            }
            stream
                .shutdown(std::net::Shutdown::Write)
                .expect("half-close");
        });
        let mut back = Vec::with_capacity(len);
        reader.read_to_end(&mut back).expect("read");
        writer.join().expect("writer");
        assert!(back == message, "zero_copy {}", config.zero_copy);
        let report = server.stop();
        assert_eq!((report.bytes, report.failed), (len as u64, 0));
    }
}

#[test]
fn idle_raw_connections_close_after_the_idle_timeout() {
    for mut config in raw_configs() {
        config.idle_timeout = Duration::from_millis(300);
        let server = Running::with(config.clone());
        let mut idle = echo::connect(server.addr, TIMEOUT).expect("connect");
        idle.write_all(b"x").expect("write");
        let mut one = [0u8; 1];
        idle.read_exact(&mut one).expect("echo");
        let started = Instant::now();
        assert_eq!(idle.read(&mut one).expect("eof"), 0);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
            "closed after {waited:?} (zero_copy {})",
            config.zero_copy
        );
        let report = server.stop();
        assert_eq!((report.connections, report.failed), (1, 1));
    }
}

#[test]
fn a_client_that_never_reads_is_dropped_after_the_idle_timeout() {
    for mut config in raw_configs() {
        config.idle_timeout = Duration::from_millis(300);
        let server = Running::with(config.clone());
        let mut stream = echo::connect(server.addr, TIMEOUT).expect("connect");
        // Write without reading until the server gives up on us and the writes fail.
        let started = Instant::now();
        let block = vec![1u8; 64 * 1024];
        let failed = (0..100_000).any(|_| stream.write_all(&block).is_err());
        assert!(failed, "zero_copy {}", config.zero_copy);
        assert!(started.elapsed() < Duration::from_secs(8));
        let report = server.stop();
        assert_eq!((report.connections, report.failed), (1, 1));
    }
}

/// A server that accepts, sends `prefix` and then nothing, holding the connection open
/// until `echo::send` has given up; returns `send`'s error and how long it took.
fn send_to_a_silent_server(
    prefix: &'static [u8],
    timeout: Duration,
) -> (notes_ipc::Error, Duration) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.write_all(prefix).expect("write the prefix");
        // Returns when the client is done, or has panicked and dropped `done`.
        let _ = wait.recv();
    });
    let started = Instant::now();
    let result = echo::send(addr, b"Hello, world", timeout);
    let waited = started.elapsed();
    done.send(()).expect("server thread");
    server.join().expect("server thread");
    (result.expect_err("no reply"), waited)
}

#[test]
fn send_says_when_the_server_never_replies() {
    let timeout = Duration::from_millis(200);
    let (err, waited) = send_to_a_silent_server(b"", timeout);
    assert!(matches!(err, notes_ipc::Error::TimedOut { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot read the reply: no reply within 200ms"
    );
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(5),
        "gave up after {waited:?}"
    );
    let (err, _) = send_to_a_silent_server(b"Hel", timeout);
    assert_eq!(
        err.to_string(),
        "cannot read the reply: 3 of 12 bytes came back, then nothing within 200ms"
    );
}

/// Slowloris: every slot held by a client that sends one byte every half second (each byte
/// resets the idle timer). A new client must still be served within seconds.
fn slowloris_against(mode: echo::Mode) {
    const SLOTS: usize = 20;
    let server = Running::start(mode, SLOTS);
    let addr = server.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slow: Vec<_> = (0..SLOTS)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).expect("connect");
                // A frame header announcing 1000 bytes, then its body one byte at a time.
                let _ = s.write_all(&1000u32.to_be_bytes());
                for _ in 0..60 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) || s.write_all(b"x").is_err()
                    {
                        break;
                    }
                    thread::sleep(Duration::from_millis(500));
                }
            })
        })
        .collect();
    // Let them take every slot and pass the eviction grace period.
    thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let mut message = (5u32).to_be_bytes().to_vec();
    message.extend_from_slice(b"hello");
    let reply = echo::send(addr, &message, Duration::from_secs(8)).expect("a new client is served");
    let waited = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reply, message);
    assert!(
        waited < Duration::from_secs(5),
        "the new client waited {waited:?}"
    );
    for client in slow {
        client.join().expect("slow client");
    }
    server.stop();
}

#[test]
fn a_server_full_of_slowloris_clients_still_serves_a_new_one_raw() {
    slowloris_against(echo::Mode::Raw);
}

#[test]
fn a_server_full_of_slowloris_clients_still_serves_a_new_one_framed() {
    slowloris_against(echo::Mode::Framed);
}

#[test]
fn clients_above_the_minimum_rate_cannot_lock_out_a_new_one() {
    // Clients well above 1 KiB/s held every slot and a new client timed out: now, past the
    // patience, the slowest connection makes room.
    const SLOTS: usize = 4;
    let server = Running::start(echo::Mode::Raw, SLOTS);
    let addr = server.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..SLOTS)
        .map(|i| {
            let stop = std::sync::Arc::clone(&stop);
            thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).expect("connect");
                s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
                // 4 to 16 KiB/s each, echoed back: busy, not slow.
                let mut chunk = vec![b'x'; 400 * (i + 1)];
                let mut closed = false;
                for _ in 0..200 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    if s.write_all(&chunk).is_err() || s.read_exact(&mut chunk).is_err() {
                        closed = true;
                        break;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                closed
            })
        })
        .collect();
    // Past the eviction grace period.
    thread::sleep(echo::EVICTION_GRACE + Duration::from_millis(300));
    let start = Instant::now();
    let reply = echo::send(addr, b"hello", Duration::from_secs(8)).expect("a new client is served");
    let waited = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reply, b"hello");
    assert!(
        waited < Duration::from_secs(6),
        "the new client waited {waited:?}"
    );
    let closed: Vec<bool> = busy
        .into_iter()
        .map(|c| c.join().expect("busy client"))
        .collect();
    // Room was made by closing busy connections (the slowest by average rate, which on a
    // loaded machine need not be the one that sends least), not all of them.
    let n = closed.iter().filter(|&&c| c).count();
    assert!((1..SLOTS).contains(&n), "{closed:?}");
    server.stop();
}

/// The resident memory of this process, in bytes (Linux).
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn framed_mode_streams_frames_instead_of_holding_them() {
    let server = Running::start(echo::Mode::Framed, 64);
    let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    // The first KiB of a 16 MiB frame comes back before the rest is sent.
    s.write_all(&(16u32 << 20).to_be_bytes()).expect("header");
    s.write_all(&[7u8; 1024]).expect("body");
    let mut back = [0u8; 4 + 1024];
    s.read_exact(&mut back).expect("the frame's start echoed");
    assert_eq!(&back[..4], &(16u32 << 20).to_be_bytes());
    assert!(back[4..].iter().all(|&b| b == 7));
    // 40 clients stalled inside 16 MiB frames hold a buffer each, not a frame each.
    let before = rss();
    let stalled: Vec<_> = (0..40)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(server.addr).expect("connect");
            c.write_all(&(16u32 << 20).to_be_bytes()).expect("header");
            c.write_all(&[1u8; 60_000]).expect("body");
            c
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    if let (Some(before), Some(after)) = (before, rss()) {
        let grown = after.saturating_sub(before);
        assert!(
            grown < 64 << 20,
            "40 stalled frames took {} MiB",
            grown >> 20
        );
    }
    drop(stalled);
    drop(s);
    server.stop();
}
