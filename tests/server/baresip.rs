//! baresip (Debian `baresip-core`) as an independent SIP phone for the
//! tests: a desk phone registering with the server, or a caller on a
//! trunk's address. Its microphone is a sine, what it hears is written to
//! WAV files, and it is commanded over its TCP control socket.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::json;

/// A port on 127.0.0.1 free for both UDP and TCP now (SIP peers listen on
/// both; a port free for UDP alone may be another test's TCP listener,
/// and a peer that cannot bind it never registers or answers).
pub(crate) fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(tcp) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(port) = tcp.local_addr().map(|a| a.port()) else {
            continue;
        };
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1")
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// baresip as a desk phone: registered as `user`, answering every call at
/// once, its microphone a sine of `hz`, what it hears written to WAV files
/// in its folder. Commanded over its TCP control socket; stopped when
/// dropped.
pub(crate) struct Baresip {
    child: std::process::Child,
    ctrl: SocketAddr,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// A desk phone registered as `user` with `password` at `sip`,
    /// answering every call at once, with G.711 µ-law.
    pub(crate) fn start(sip: SocketAddr, user: &str, password: &str, hz: u32) -> Baresip {
        let account = format!(
            "<sip:{user}@{sip}>;auth_pass={password};regint=600;answermode=auto;audio_codecs=PCMU\n"
        );
        Baresip::run(free_port(), &account, hz, "")
    }

    /// A desk phone as [`Baresip::start`], registered over TLS at `sips`
    /// (the server's `[sip] tls_listen`) and trusting the CA in `ca`.
    pub(crate) fn start_tls(
        sips: SocketAddr,
        user: &str,
        password: &str,
        hz: u32,
        ca: &Path,
    ) -> Baresip {
        let account = format!(
            "<sip:{user}@{sips};transport=tls>;auth_pass={password};regint=600;answermode=auto;audio_codecs=PCMU\n"
        );
        let tls = format!("sip_cafile {}\n", ca.display());
        Baresip::run(free_port(), &account, hz, &tls)
    }

    /// A phone on a trunk's address (SIP on 127.0.0.1:`port`) that does
    /// not register, speaking only `codec` (a baresip codec name: `opus`,
    /// `PCMA`...), for [`Baresip::dial`].
    pub(crate) fn caller(port: u16, codec: &str, hz: u32) -> Baresip {
        let account = format!("<sip:caller@127.0.0.1:{port}>;regint=0;audio_codecs={codec}\n");
        Baresip::run(port, &account, hz, "")
    }

    fn run(sip_port: u16, account: &str, hz: u32, extra: &str) -> Baresip {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctrl: SocketAddr = format!("127.0.0.1:{}", free_tcp_port())
            .parse()
            .expect("addr");
        let snd = dir.path().join("heard");
        std::fs::create_dir_all(&snd).expect("mkdir");
        let config = format!(
            "poll_method epoll\nnet_interface 127.0.0.1\n\
             sip_listen 127.0.0.1:{sip_port}\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule opus.so\nmodule ausine.so\nmodule aubridge.so\nmodule sndfile.so\n\
             module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n\
             ctrl_tcp_listen {ctrl}\n\
             audio_source ausine,{hz}\naudio_player aubridge,nil\naudio_alert aubridge,nil\n\
             ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 2\nauplay_channels 1\n\
             snd_path {snd}\n{extra}",
            snd = snd.display(),
        );
        std::fs::write(dir.path().join("config"), config).expect("config");
        std::fs::write(dir.path().join("accounts"), account).expect("accounts");
        let child = std::process::Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("baresip runs (scripts/setup.sh installs baresip-core)");
        Baresip { child, ctrl, dir }
    }

    /// Call `uri`.
    pub(crate) fn dial(&self, uri: &str) {
        self.send(json!({"command": "dial", "params": uri, "token": "d"}));
    }

    /// Send a command on the control socket (a netstring of JSON) and
    /// return once it is answered.
    pub(crate) fn command(&self, command: &str) {
        self.send(json!({"command": command, "params": "", "token": "t"}));
    }

    fn send(&self, msg: serde_json::Value) {
        // baresip starts in well under a second, but on a loaded CI
        // machine (two cores, the whole suite in parallel) it has taken
        // more than five.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut s = None;
        while s.is_none() && std::time::Instant::now() < deadline {
            match TcpStream::connect(self.ctrl) {
                Ok(c) => s = Some(c),
                // Not listening yet: baresip is starting (a port with no
                // event to wait on).
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let ctrl = self.ctrl;
        let mut s = s
            .unwrap_or_else(|| panic!("baresip's control socket at {ctrl} never answered in 20 s"));
        let msg = msg.to_string();
        s.write_all(format!("{}:{msg},", msg.len()).as_bytes())
            .expect("command sent");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut buf = [0u8; 4096];
        let mut got = String::new();
        while !got.contains("\"response\":true") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    }

    /// What the phone heard in its call (sndfile's `-dec.wav`): its rate
    /// and samples.
    pub(crate) fn heard(&self) -> (u32, Vec<i16>) {
        let dir = self.dir.path().join("heard");
        let file = std::fs::read_dir(&dir)
            .expect("the phone's recordings")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .expect("a -dec.wav: what the phone heard");
        read_mono(&file)
    }

    /// Quit and wait for baresip to exit (its WAV files are then whole).
    pub(crate) fn quit(&mut self) {
        self.command("quit");
        for _ in 0..200 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            // Polling the process's exit, which has no event to wait on.
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("baresip did not quit within 10 s");
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_mono(path: &Path) -> (u32, Vec<i16>) {
    let mut r = hound::WavReader::open(path).expect("wav opens");
    let rate = r.spec().sample_rate;
    (rate, r.samples::<i16>().map_while(Result::ok).collect())
}
