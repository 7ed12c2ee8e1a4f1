//! Integration tests of notes-ipc: the echo server under load and abuse, Python interop,
//! and "never panics" properties.

mod checkpoint;
mod pickles;
mod props;
mod python;
mod server;

use std::time::Duration;

use notes_ipc::echo;

/// Every socket in these tests gives up after this long.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on an ephemeral loopback port, running in a thread.
pub(crate) struct Running {
    pub(crate) addr: std::net::SocketAddr,
    stop: echo::Shutdown,
    thread: Option<std::thread::JoinHandle<notes_ipc::Result<echo::Report>>>,
}

impl Running {
    pub(crate) fn start(mode: echo::Mode, max_conn: usize) -> Self {
        let mut config = echo::ServerConfig::default();
        config.mode = mode;
        config.max_conn = max_conn;
        config.idle_timeout = TIMEOUT;
        Self::with(config)
    }

    pub(crate) fn with(config: echo::ServerConfig) -> Self {
        let server = echo::Server::bind("127.0.0.1:0", config).expect("bind 127.0.0.1:0");
        let addr = server.local_addr();
        let stop = server.shutdown_handle();
        let thread = Some(std::thread::spawn(move || server.serve()));
        Self { addr, stop, thread }
    }

    pub(crate) fn stop(mut self) -> echo::Report {
        self.stop.shutdown();
        let thread = self.thread.take().expect("running");
        thread.join().expect("server thread").expect("serve")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.stop.shutdown();
            let _ = thread.join();
        }
    }
}
