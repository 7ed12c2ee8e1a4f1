//! The notes' echo server and client on std sockets: a threaded server with a connection
//! limit, timeouts and graceful shutdown, and a client that behaves like `echo-client.py`.
//!
//! On Linux the raw echo can use `splice(2)` (socket → pipe → socket), so the server copies
//! nothing through user space; see [`ServerConfig::zero_copy`] for why it is off by default.

use std::io::{self, Read, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::frame::HEADER_LEN;
use crate::{Error, Limits, Result};

/// How often blocked reads and waits wake up to look at the shutdown flag.
const POLL: Duration = Duration::from_millis(100);

/// What the server sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Every byte received, as it arrives: `echo-server.py`'s `recv`/`sendall` loop
    /// (optionally with `splice(2)` on Linux, see [`ServerConfig::zero_copy`]).
    #[default]
    Raw,
    /// Frames (see [`frame`](crate::frame)), echoed as they arrive: a frame is passed
    /// through in pieces, never held whole, so memory stays at one 64 KiB buffer per
    /// connection whatever the frame sizes. A frame header over [`Limits::max_len`]
    /// closes the connection before any of that frame is echoed. Python's
    /// `multiprocessing.connection.Client` gets its own objects back.
    Framed,
}

/// How the server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Connections served at once; further clients wait in the listen backlog (default 1024).
    pub max_conn: usize,
    /// Echo bytes or frames.
    pub mode: Mode,
    /// A connection idle (or a write blocked) this long is closed (default 30 s).
    pub idle_timeout: Duration,
    /// Frame limits for [`Mode::Framed`].
    pub limits: Limits,
    /// Serve one connection, then return (like `echo-server.py`).
    pub once: bool,
    /// In [`Mode::Raw`] on Linux, move the bytes socket → pipe → socket with `splice(2)`,
    /// never copying them through user space. Off by default: measured side by side, the
    /// copy through a buffer was as fast on AMD EPYC (1025 against 1043 MB/s with a 256 KiB
    /// buffer, a tie within the noise of a loaded machine; the buffer now grows to 1 MiB,
    /// which made the copy 1.17 times faster) and 1.55 times faster on an Intel Xeon (2178
    /// against 1404 MB/s), because on loopback the cost is the TCP path both ways, not the
    /// server's copies, and splice adds a pipe and two system calls per chunk (see
    /// docs/benchmarks.md). On other systems, or when the kernel refuses to splice, the
    /// server copies whatever this says.
    pub zero_copy: bool,
    /// The slowloris defence: when every slot is taken and a new client is waiting, the
    /// server closes the connection with the lowest average rate (bytes echoed per second
    /// since it connected) among those older than [`EVICTION_GRACE`] and slower than this
    /// many bytes per second (default 1024), one at a time, until the new client has a slot.
    /// Once the client has waited [`EVICTION_PATIENCE`], the slowest connection older than
    /// the grace period is closed whatever its rate, so a full server serves a new client
    /// within seconds even against many clients just above the rate (the policy of nginx's
    /// and Apache's request timeouts: the slowest goes first). 0 turns eviction off.
    pub min_rate: u64,
    /// Called with each client's address when it is accepted (the CLI prints
    /// `Connected by ('127.0.0.1', 54321)` from it, as `echo-server.py` does).
    pub on_connect: Option<ConnectHook>,
}

/// How long a new connection is safe from eviction (see [`ServerConfig::min_rate`]).
pub const EVICTION_GRACE: Duration = Duration::from_secs(2);

/// How long a client waits for a slot of a full server before the slowest connection is
/// closed whatever its rate (see [`ServerConfig::min_rate`]).
pub const EVICTION_PATIENCE: Duration = Duration::from_secs(1);

/// A callback for [`ServerConfig::on_connect`].
#[derive(Clone)]
pub struct ConnectHook(pub Arc<dyn Fn(SocketAddr) + Send + Sync>);

impl std::fmt::Debug for ConnectHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectHook(..)")
    }
}

/// A socket address as Python's `socket.accept()` returns it: `('127.0.0.1', 54321)`, or
/// `('::1', 54321, 0, 0)` for IPv6.
pub fn python_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!("('{}', {})", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!(
            "('{}', {}, {}, {})",
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id()
        ),
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_conn: 1024,
            mode: Mode::Raw,
            idle_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            once: false,
            zero_copy: false,
            min_rate: 1024,
            on_connect: None,
        }
    }
}

/// What a server did, returned by [`Server::serve`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Connections accepted.
    pub connections: u64,
    /// Connections that ended with an error (bad frame, reset, idle timeout, ...); those
    /// still open when the server was shut down, which it closes itself, are not counted.
    pub failed: u64,
    /// Bytes echoed, on every connection: also those that ended with an error or were
    /// still open at shutdown.
    pub bytes: u64,
}

/// A bound echo server; [`serve`](Server::serve) runs it.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    config: ServerConfig,
    stop: Arc<AtomicBool>,
}

/// Stops a running [`Server`] from another thread (or a Ctrl-C handler).
#[derive(Debug, Clone)]
pub struct Shutdown {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Shutdown {
    /// Asks the server to stop: it accepts no more connections, open connections close
    /// within 100 ms of their next idle moment, and `serve` returns.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking `accept` with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port; see [`local_addr`](Server::local_addr)).
    pub fn bind(addr: impl ToSocketAddrs + std::fmt::Debug, config: ServerConfig) -> Result<Self> {
        let listener = TcpListener::bind(&addr).map_err(Error::io(format!("bind {addr:?}")))?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("read the bound address"))?;
        Ok(Self {
            listener,
            addr,
            config,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops [`serve`](Server::serve).
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown {
            stop: Arc::clone(&self.stop),
            addr: self.addr,
        }
    }

    /// Accepts and serves connections, one thread each, at most `max_conn` at a time, until
    /// shut down (or after one connection with `once`); then waits for open connections.
    ///
    /// A client's garbage, hostile frame lengths, resets and disconnects mid-frame end that
    /// client's connection only; they are counted in [`Report::failed`] and logged at debug level.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn serve(self) -> Result<Report> {
        let slots = Arc::new((Mutex::new(0usize), Condvar::new()));
        let stats = Arc::new(Stats::default());
        let conns: Arc<Mutex<Vec<Arc<Conn>>>> = Arc::default();
        let max_conn = self.config.max_conn.max(1);
        while !self.stop.load(Ordering::SeqCst) {
            let (stream, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {err}");
                    std::thread::sleep(POLL);
                    continue;
                }
            };
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(hook) = &self.config.on_connect {
                (hook.0)(peer);
            }
            tracing::info!("Connected by {peer}");
            // A client is waiting now: a slot, freed by eviction if need be.
            if !wait_for_slot(&slots, max_conn, &self.stop, &conns, self.config.min_rate) {
                break;
            }
            stats.connections.fetch_add(1, Ordering::Relaxed);
            let conn = Arc::new(Conn {
                started: Instant::now(),
                bytes: AtomicU64::new(0),
                evict: AtomicBool::new(false),
            });
            lock(&conns).push(Arc::clone(&conn));
            if self.config.once {
                serve_conn(stream, peer, &self.config, &self.stop, &conn, &stats);
                release(&slots);
                break;
            }
            let (config, stop, stats2, slots2, conns2) = (
                self.config.clone(),
                Arc::clone(&self.stop),
                Arc::clone(&stats),
                Arc::clone(&slots),
                Arc::clone(&conns),
            );
            let spawned = std::thread::Builder::new()
                .name(format!("echo {peer}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    serve_conn(stream, peer, &config, &stop, &conn, &stats2);
                    lock(&conns2).retain(|c| !Arc::ptr_eq(c, &conn));
                    release(&slots2);
                });
            if let Err(err) = spawned {
                tracing::warn!("cannot start a thread for {peer}: {err}");
                stats.failed.fetch_add(1, Ordering::Relaxed);
                release(&slots);
            }
        }
        // Wait for the connection threads; each notices the flag within POLL once idle.
        let (count, cvar) = &*slots;
        let mut open = count.lock().unwrap_or_else(|p| p.into_inner());
        while *open > 0 {
            open = cvar
                .wait_timeout(open, POLL)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(Report {
            connections: stats.connections.load(Ordering::Relaxed),
            failed: stats.failed.load(Ordering::Relaxed),
            bytes: stats.bytes.load(Ordering::Relaxed),
        })
    }
}

#[derive(Debug, Default)]
struct Stats {
    connections: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
}

/// One connection as the eviction policy sees it.
#[derive(Debug)]
struct Conn {
    started: Instant,
    /// Bytes echoed so far (updated by the connection's thread).
    bytes: AtomicU64,
    /// Set to close the connection at its next poll.
    evict: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Marks the slowest connection under `min_rate` bytes per second (and older than the
/// grace period) for eviction; false when there is none.
fn evict_slowest(conns: &Mutex<Vec<Arc<Conn>>>, min_rate: f64) -> bool {
    let conns = lock(conns);
    let slowest = conns
        .iter()
        .filter(|c| !c.evict.load(Ordering::Relaxed))
        .filter_map(|c| {
            let age = c.started.elapsed();
            (age >= EVICTION_GRACE).then(|| {
                (
                    c.bytes.load(Ordering::Relaxed) as f64 / age.as_secs_f64(),
                    c,
                )
            })
        })
        .filter(|(rate, _)| *rate < min_rate)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match slowest {
        Some((rate, conn)) => {
            tracing::debug!("evicting a connection at {rate:.1} B/s for a waiting client");
            conn.evict.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Takes a connection slot for a client that is waiting; while all are taken, evicts the
/// slowest connection below `min_rate` every 200 ms, and after [`EVICTION_PATIENCE`] the
/// slowest whatever its rate (see [`ServerConfig::min_rate`]).
/// False when shut down meanwhile.
fn wait_for_slot(
    slots: &(Mutex<usize>, Condvar),
    max: usize,
    stop: &AtomicBool,
    conns: &Mutex<Vec<Arc<Conn>>>,
    min_rate: u64,
) -> bool {
    let (count, cvar) = slots;
    let mut open = lock(count);
    let mut last_eviction: Option<Instant> = None;
    let waiting = Instant::now();
    while *open >= max {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        if min_rate > 0 && last_eviction.is_none_or(|at| at.elapsed() >= Duration::from_millis(200))
        {
            drop(open);
            // Past the patience, the slowest goes whatever its rate.
            let below = if waiting.elapsed() >= EVICTION_PATIENCE {
                f64::INFINITY
            } else {
                min_rate as f64
            };
            if evict_slowest(conns, below) {
                last_eviction = Some(Instant::now());
            }
            open = lock(count);
            continue;
        }
        open = cvar
            .wait_timeout(open, POLL)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    *open += 1;
    true
}

fn release(slots: &(Mutex<usize>, Condvar)) {
    let (count, cvar) = slots;
    let mut open = count.lock().unwrap_or_else(|p| p.into_inner());
    *open = open.saturating_sub(1);
    cvar.notify_all();
}

fn serve_conn(
    mut stream: TcpStream,
    peer: SocketAddr,
    config: &ServerConfig,
    stop: &AtomicBool,
    conn: &Conn,
    stats: &Stats,
) {
    let watch = Watch { stop, conn };
    let stop = &watch;
    // Counted however the connection ends, so that bytes echoed before an error or the
    // shutdown are not lost from the report.
    let mut bytes = 0u64;
    let result = (|| -> io::Result<()> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(config.idle_timeout))?;
        match config.mode {
            Mode::Raw => echo_raw(&mut stream, &mut bytes, config, stop),
            Mode::Framed => echo_framed(&mut stream, &mut bytes, config, stop),
        }
    })();
    stats.bytes.fetch_add(bytes, Ordering::Relaxed);
    match result {
        Ok(()) => tracing::debug!("{peer} closed after {bytes} bytes"),
        Err(err) if is_shutdown(&err) => {
            tracing::debug!("{peer} closed by the shutdown after {bytes} bytes");
        }
        Err(err) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("{peer}: {err} (after {bytes} bytes)");
        }
    }
    let _ = stream.shutdown(NetShutdown::Both);
}

/// What a connection's loops look at when a read times out: the server's shutdown flag and
/// the connection's own eviction flag.
struct Watch<'a> {
    stop: &'a AtomicBool,
    conn: &'a Conn,
}

/// One read with the idle/shutdown bookkeeping: `Ok(None)` means "nothing yet, go on".
fn read_some(
    stream: &mut TcpStream,
    buf: &mut [u8],
    idle: &mut Instant,
    config: &ServerConfig,
    stop: &Watch<'_>,
) -> io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(n) => {
            *idle = Instant::now();
            Ok(Some(n))
        }
        Err(err) => quiet(err, idle, config, stop).map(|()| None),
    }
}

/// The error that ends a connection because the server is shutting down: the server's own
/// doing, not a failure of the connection.
#[derive(Debug)]
struct ShuttingDown;

impl std::fmt::Display for ShuttingDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("server shutting down")
    }
}

impl std::error::Error for ShuttingDown {}

/// Whether `err` is [`ShuttingDown`] (from [`quiet`]), rather than a real failure.
fn is_shutdown(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<ShuttingDown>())
}

/// Decides what a failed read means: `Ok(())` when the read only timed out (the 100 ms
/// poll) or was interrupted and the connection goes on; [`ShuttingDown`] when the server is
/// shutting down; an error when the connection has been idle for `idle_timeout` or the
/// read really failed.
fn quiet(
    err: io::Error,
    idle: &Instant,
    config: &ServerConfig,
    watch: &Watch<'_>,
) -> io::Result<()> {
    if !matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    ) {
        return Err(err);
    }
    if watch.stop.load(Ordering::SeqCst) {
        return Err(io::Error::new(io::ErrorKind::Interrupted, ShuttingDown));
    }
    if watch.conn.evict.load(Ordering::Relaxed) {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "closed below the minimum rate while the server was full",
        ));
    }
    if idle.elapsed() >= config.idle_timeout {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "idle timeout"));
    }
    Ok(())
}

/// Raw mode: on Linux the bytes go socket → pipe → socket with `splice(2)` and never
/// enter user space; elsewhere, or when the kernel refuses to splice, `read` and `write_all`
/// through one buffer (64 KiB, grown to 1 MiB for bulk transfers). Adds the bytes echoed to `total` as they go.
fn echo_raw(
    stream: &mut TcpStream,
    total: &mut u64,
    config: &ServerConfig,
    stop: &Watch<'_>,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(pipe) = config.zero_copy.then(splice::Pipe::new).flatten()
        && splice::echo(stream, &pipe, total, config, stop)?
    {
        return Ok(());
    }
    echo_copy(stream, total, config, stop)
}

/// The copying echo's buffer: a connection starts with [`COPY_START`] and grows it
/// fourfold each time a read fills it, up to [`COPY_MAX`]. Bulk transfers then take 1 MiB
/// per read and write: on AMD EPYC 1.17 times the rate of a fixed 256 KiB buffer (faster
/// in 7 of 7 alternated runs on a quiet machine, medians 2485 against 2115 MB/s; 1.3 times
/// under load), the server's CPU per GB down from 0.38-0.55 to 0.22-0.29 s, as low as
/// iperf3's server; connections of small messages keep 64 KiB each (1024 of them: 64 MiB,
/// not 1 GiB).
const COPY_START: usize = 64 * 1024;
/// See [`COPY_START`].
const COPY_MAX: usize = 1 << 20;

fn echo_copy(
    stream: &mut TcpStream,
    total: &mut u64,
    config: &ServerConfig,
    stop: &Watch<'_>,
) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_START];
    let mut idle = Instant::now();
    loop {
        match read_some(stream, &mut buf, &mut idle, config, stop)? {
            None => {}
            Some(0) => return Ok(()),
            Some(n) => {
                stream.write_all(&buf[..n])?;
                *total += n as u64;
                stop.conn.bytes.store(*total, Ordering::Relaxed);
                if n == buf.len() && buf.len() < COPY_MAX {
                    buf.resize((buf.len() * 4).min(COPY_MAX), 0);
                }
            }
        }
    }
}

/// The zero-copy raw echo: `splice(2)` from the socket into a pipe and from the pipe back
/// into the socket, so the server copies nothing through user space.
#[cfg(target_os = "linux")]
mod splice {
    use std::io::{self, Read, Write};
    use std::net::TcpStream;
    use std::os::fd::OwnedFd;
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    use rustix::io::Errno;
    use rustix::pipe::{self, PipeFlags, SpliceFlags};

    use super::{ServerConfig, Watch, quiet};

    /// What a pipe grows to once a connection fills its default 64 KiB: bulk transfers then
    /// take 1 MiB per pair of system calls. Connections that never fill the default
    /// keep it, so many small clients do not use up the user's pipe allowance
    /// (`/proc/sys/fs/pipe-user-pages-soft`, 64 MiB by default).
    const GROWN: usize = 1 << 20;

    pub(super) struct Pipe {
        read: OwnedFd,
        write: OwnedFd,
    }

    impl Pipe {
        /// A pipe, or `None` (and the copying echo) when none can be made, e.g. out of
        /// file descriptors.
        pub(super) fn new() -> Option<Self> {
            match pipe::pipe_with(PipeFlags::CLOEXEC) {
                Ok((read, write)) => Some(Self { read, write }),
                Err(err) => {
                    tracing::debug!("no pipe for splice, copying instead: {err}");
                    None
                }
            }
        }
    }

    /// Echoes until the client closes; `Ok(false)` when the kernel cannot splice this socket
    /// (`EINVAL`, `ENOSYS`) and the caller should copy instead. Bytes already in the pipe
    /// are sent before that, so the client never sees a gap.
    pub(super) fn echo(
        stream: &mut TcpStream,
        pipe: &Pipe,
        total: &mut u64,
        config: &ServerConfig,
        stop: &Watch<'_>,
    ) -> io::Result<bool> {
        let mut capacity = pipe::fcntl_getpipe_size(&pipe.read).unwrap_or(64 * 1024);
        let mut grown = false;
        let mut idle = Instant::now();
        loop {
            // A blocking splice from a socket honours its SO_RCVTIMEO (the 100 ms poll) and
            // fails with EAGAIN, which `quiet` treats as a read that timed out.
            let n = match pipe::splice(
                &*stream,
                None,
                &pipe.write,
                None,
                capacity,
                SpliceFlags::MOVE,
            ) {
                Ok(n) => n,
                Err(Errno::INVAL | Errno::NOSYS) => return Ok(false),
                Err(err) => {
                    quiet(err.into(), &idle, config, stop)?;
                    continue;
                }
            };
            idle = Instant::now();
            if n == 0 {
                return Ok(true);
            }
            drain(stream, pipe, n)?;
            *total += n as u64;
            stop.conn.bytes.store(*total, Ordering::Relaxed);
            if n == capacity && !grown {
                grown = true;
                // Refused over the user's allowance: the pipe keeps its size, which still works.
                if let Ok(size) = pipe::fcntl_setpipe_size(&pipe.write, GROWN) {
                    capacity = size;
                }
            }
        }
    }

    /// Sends the `n` bytes in the pipe to the socket; a blocked send fails after the
    /// socket's SO_SNDTIMEO (the idle timeout), as `write_all` does.
    fn drain(stream: &mut TcpStream, pipe: &Pipe, mut n: usize) -> io::Result<()> {
        while n > 0 {
            match pipe::splice(&pipe.read, None, &*stream, None, n, SpliceFlags::MOVE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(sent) => n -= sent,
                Err(Errno::INTR) => {}
                Err(Errno::INVAL | Errno::NOSYS) => return copy_out(stream, pipe, n),
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// The pipe's last `n` bytes through user space, for a socket that takes no splice.
    fn copy_out(stream: &mut TcpStream, pipe: &Pipe, n: usize) -> io::Result<()> {
        let mut buf = vec![0u8; n];
        let mut read = std::fs::File::from(pipe.read.try_clone()?);
        read.read_exact(&mut buf)?;
        stream.write_all(&buf)
    }
}

/// Framed mode: passes frames through as they arrive (see [`Mode::Framed`]), adding
/// their bytes to `total`. Only an incomplete header (at most 3 bytes) is held back, so
/// that a header over the limit closes the connection before any of its frame is echoed.
fn echo_framed(
    stream: &mut TcpStream,
    total: &mut u64,
    config: &ServerConfig,
    stop: &Watch<'_>,
) -> io::Result<()> {
    let max = config.limits.max_len;
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes at the front of `buf` kept from the last read: part of a header.
    let mut kept = 0;
    // Body bytes of the current frame still to come.
    let mut body = 0usize;
    let mut idle = Instant::now();
    loop {
        let n = match read_some(stream, &mut buf[kept..], &mut idle, config, stop)? {
            None => continue,
            Some(0) if kept == 0 && body == 0 => return Ok(()),
            Some(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the client left inside a frame ({} bytes of it missing)",
                        if body > 0 { body } else { HEADER_LEN - kept }
                    ),
                ));
            }
            Some(n) => kept + n,
        };
        // Walk the frames in buf[..n]: everything up to `pass` is echoed.
        let mut at = 0;
        loop {
            if body > 0 {
                let take = body.min(n - at);
                at += take;
                body -= take;
                if at == n {
                    break;
                }
            }
            if n - at < HEADER_LEN {
                break;
            }
            let header: [u8; HEADER_LEN] = buf[at..at + HEADER_LEN].try_into().unwrap_or_default();
            let len = u32::from_be_bytes(header) as usize;
            if len > max {
                // Echo the frames before this one, then refuse it.
                stream.write_all(&buf[..at])?;
                *total += at as u64;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    Error::FrameTooLarge {
                        len: len as u64,
                        max,
                    },
                ));
            }
            at += HEADER_LEN;
            body = len;
        }
        stream.write_all(&buf[..at])?;
        *total += at as u64;
        stop.conn.bytes.store(*total, Ordering::Relaxed);
        buf.copy_within(at..n, 0);
        kept = n - at;
    }
}

/// Connects to `addr` with `timeout` for the connection and every later read and write,
/// and with `TCP_NODELAY` on.
#[tracing::instrument(level = "debug", skip_all)]
pub fn connect(addr: impl ToSocketAddrs + std::fmt::Debug, timeout: Duration) -> Result<TcpStream> {
    let what = || format!("connect to {addr:?}");
    let addrs = addr.to_socket_addrs().map_err(Error::io(what()))?;
    let mut last = io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        "the address resolved to nothing",
    );
    for candidate in addrs {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => {
                let setup = stream
                    .set_read_timeout(Some(timeout))
                    .and_then(|()| stream.set_write_timeout(Some(timeout)))
                    .and_then(|()| stream.set_nodelay(true));
                setup.map_err(Error::io(what()))?;
                return Ok(stream);
            }
            Err(err) => last = err,
        }
    }
    Err(Error::Io {
        action: what(),
        source: last,
    })
}

/// Sends `message` to an echo server and returns what comes back, like `echo-client.py`
/// (which prints it as `Received b'...'`).
///
/// Unlike the script's single `recv(1024)`, this reads until as many bytes as were sent
/// have returned, or the server closes, or `timeout` passes without data.
///
/// # Errors
///
/// [`Error::TimedOut`] when the server takes no more of the message, or sends no more of
/// the reply, for `timeout` (`cannot read the reply: no reply within 2s`); [`Error::Io`]
/// when connecting, sending or reading fails otherwise.
#[tracing::instrument(level = "debug", skip_all)]
pub fn send(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    message: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>> {
    let mut stream = connect(&addr, timeout)?;
    stream.write_all(message).map_err(|err| {
        timed_out(err, "send the message", timeout, || {
            "the server took no more of it".into()
        })
    })?;
    let mut reply = Vec::with_capacity(message.len());
    let mut buf = [0u8; 64 * 1024];
    while reply.len() < message.len() {
        let want = (message.len() - reply.len()).min(buf.len());
        match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                return Err(timed_out(err, "read the reply", timeout, || {
                    match reply.len() {
                        0 => "no reply".into(),
                        got => format!("{got} of {} bytes came back, then nothing", message.len()),
                    }
                }));
            }
        }
    }
    Ok(reply)
}

/// [`Error::TimedOut`] for the error of a socket read or write that hit the socket's
/// timeout (`WouldBlock` on Unix, `TimedOut` on Windows), else [`Error::Io`].
fn timed_out(
    err: io::Error,
    action: &str,
    timeout: Duration,
    what: impl FnOnce() -> String,
) -> Error {
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::TimedOut {
            action: action.into(),
            what: what(),
            timeout,
        },
        _ => Error::io(action)(err),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Echoes 3 MiB from a client through `echo` on the server's side of the connection and
    /// returns what `echo` returned, the bytes it counted and whether all came back in order.
    fn echo_through<T>(
        echo: impl FnOnce(&mut TcpStream, &mut u64, &ServerConfig, &Watch<'_>) -> T,
    ) -> (T, u64, bool) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let len = 3 << 20;
        let sent: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let expected = sent.clone();
        let client = std::thread::spawn(move || {
            let stream = connect(addr, Duration::from_secs(10)).expect("connect");
            let mut reader = stream.try_clone().expect("clone");
            let writer = std::thread::spawn(move || {
                let mut stream = stream;
                stream.write_all(&sent).expect("write");
                stream.shutdown(NetShutdown::Write).expect("half-close");
            });
            let mut back = Vec::new();
            reader.read_to_end(&mut back).expect("read");
            writer.join().expect("writer");
            back
        });
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(POLL)).expect("timeout");
        let mut total = 0;
        let config = ServerConfig::default();
        let conn = Conn {
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            evict: AtomicBool::new(false),
        };
        let watch = Watch {
            stop: &AtomicBool::new(false),
            conn: &conn,
        };
        let result = echo(&mut stream, &mut total, &config, &watch);
        stream.shutdown(NetShutdown::Write).expect("close");
        let same = client.join().expect("client") == expected;
        (result, total, same)
    }

    /// The zero-copy path really runs here (no silent fallback to copying), grows its pipe
    /// and returns every byte in order.
    #[test]
    fn splice_echoes_a_stream_without_falling_back() {
        let pipe = splice::Pipe::new().expect("a pipe");
        let (spliced, total, same) = echo_through(|stream, total, config, watch| {
            splice::echo(stream, &pipe, total, config, watch)
        });
        assert!(spliced.expect("echo"), "splice was refused");
        assert_eq!(total, 3 << 20);
        assert!(same);
    }

    /// The copying echo returns every byte in order while its buffer grows from 64 KiB to
    /// 1 MiB under a bulk transfer.
    #[test]
    fn the_copying_echo_keeps_every_byte_while_its_buffer_grows() {
        let (result, total, same) = echo_through(echo_copy);
        result.expect("echo");
        assert_eq!(total, 3 << 20);
        assert!(same);
    }
}
