//! A private NATS server with JetStream (Debian `nats-server`, installed by
//! scripts/setup.sh) on 127.0.0.1 at a port the test picked, its storage in
//! a temporary folder; stopped when dropped.

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct Nats {
    pub url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

/// Where nats-server is, if installed.
fn binary() -> Option<&'static str> {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

impl Nats {
    /// Start it, or None (said on stderr) when nats-server is not
    /// installed.
    pub fn start() -> Option<Nats> {
        let Some(bin) = binary() else {
            eprintln!("nats-server is not installed: scripts/setup.sh installs it; skipped");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = std::process::Command::new(bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
            .arg("-sd")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server never listened");
            // Polling a port that has no event to wait on.
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Nats {
            url: format!("nats://127.0.0.1:{port}"),
            child,
            _dir: dir,
        })
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
