//! The app loop: keys, server events and timers become actions; the reducer
//! turns them into state and effects; effects are run here (the only I/O);
//! the screen is drawn when the state changed, at most ~30 frames a second.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyEventKind};
use futures_util::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::action::{Action, Effect};
use super::config::NotifyStyle;
use super::link::{self, LinkConfig, Outgoing};
use super::reduce::{next_tick, reduce};
use super::state::{AudioSetting, Exit, State};
use crate::media::call::{self, CallCmd};
use crate::media::device::{Backend as AudioBackend, DeviceChoice};
use crate::server::clock::Clock;

/// How often frames may be drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramePace {
    /// Frames a second, sustained.
    pub rate: f64,
    /// Frames that may be drawn back to back before the rate applies (a key
    /// press and the server's answer to it are drawn at once).
    pub burst: f64,
}

impl FramePace {
    /// The agent terminal: 30 frames a second, bursts of 4.
    pub const AGENT: FramePace = FramePace {
        rate: 30.0,
        burst: 4.0,
    };
    /// The supervisor console (often over SSH): 10 a second, bursts of 2.
    pub const SUPERVISOR: FramePace = FramePace {
        rate: 10.0,
        burst: 2.0,
    };
    /// The supervisor console's pace: `rate` when one is set, else SUPERVISOR.
    pub fn supervisor(rate: Option<f64>) -> FramePace {
        rate.map_or(FramePace::SUPERVISOR, FramePace::with_rate)
    }
    /// A pace of `rate` frames a second (clamped to 1..=60).
    pub fn with_rate(rate: f64) -> FramePace {
        let rate = if rate.is_finite() {
            rate.clamp(1.0, 60.0)
        } else {
            10.0
        };
        FramePace {
            rate,
            burst: (rate / 5.0).clamp(1.0, 4.0),
        }
    }
}

/// A token bucket for frames: at most `rate` a second, with short bursts.
#[derive(Debug, Clone)]
pub struct FrameBudget {
    pace: FramePace,
    tokens: f64,
    at: Instant,
}

impl FrameBudget {
    pub fn new(now: Instant, pace: FramePace) -> Self {
        FrameBudget {
            pace,
            tokens: pace.burst,
            at: now,
        }
    }
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.pace.rate).min(self.pace.burst);
        self.at = now;
    }
    /// Take a frame now if the budget allows it.
    pub fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 - 1e-6 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
    /// When the next frame may be drawn.
    pub fn next_at(&self) -> Instant {
        let missing = (1.0 - self.tokens).max(0.0);
        self.at + Duration::from_secs_f64(missing / self.pace.rate) + Duration::from_micros(1)
    }
}

/// Where frames, bells and notifications go.
pub trait Screen {
    fn draw(&mut self, state: &State) -> io::Result<()>;
    fn bell(&mut self) -> io::Result<()>;
    fn notify(&mut self, title: &str, body: &str) -> io::Result<()>;
}

/// Something that plays the agent by pressing keys (the demo's autopilot).
pub trait Pilot: Send {
    /// The next key to press and when (unix ms), given the state now.
    fn next(&mut self, state: &State, now: u64) -> Option<(u64, crossterm::event::KeyEvent)>;
    /// The key last returned by `next` was pressed; what it starts, in words
    /// (for the status pane), when it starts something.
    fn pressed(&mut self, now: u64) -> Option<String>;
    /// Lines to say now, as (session id, text), into calls with audio.
    fn speak(&mut self, _state: &State, _now: u64) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// No screen at all (headless demo runs): frames are counted, nothing drawn.
#[derive(Debug, Default)]
pub struct NullScreen {
    pub frames: u64,
    pub bells: u64,
    pub notifications: u64,
}

impl Screen for NullScreen {
    fn draw(&mut self, _state: &State) -> io::Result<()> {
        self.frames += 1;
        Ok(())
    }
    fn bell(&mut self) -> io::Result<()> {
        self.bells += 1;
        Ok(())
    }
    fn notify(&mut self, _title: &str, _body: &str) -> io::Result<()> {
        self.notifications += 1;
        Ok(())
    }
}

/// Strip what could end an escape sequence early.
fn osc_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && *c != ';')
        .take(200)
        .collect()
}

/// The escape sequence of a desktop notification (ended by ST, so that a
/// BEL on the wire is always the ringtone).
pub fn notification_escape(style: NotifyStyle, title: &str, body: &str) -> String {
    match style {
        NotifyStyle::Osc777 => {
            format!(
                "\x1b]777;notify;{};{}\x1b\\",
                osc_text(title),
                osc_text(body)
            )
        }
        NotifyStyle::Osc9 => format!("\x1b]9;{}: {}\x1b\\", osc_text(title), osc_text(body)),
    }
}

/// A real terminal: frames inside synchronized updates, escapes written between frames.
pub struct TermScreen<B: Backend + io::Write> {
    pub terminal: Terminal<B>,
    pub notify_style: NotifyStyle,
    pub frames: u64,
    /// Clear and redraw everything every frame (only to measure what the
    /// diffing saves; never the default).
    pub full_redraw: bool,
}

impl<B: Backend + io::Write> Screen for TermScreen<B> {
    fn draw(&mut self, state: &State) -> io::Result<()> {
        crossterm::queue!(
            self.terminal.backend_mut(),
            crossterm::terminal::BeginSynchronizedUpdate
        )?;
        if self.full_redraw {
            // Clear the screen and forget the last frame, so that every cell
            // is written again. (Terminal::clear would also ask the terminal
            // for the cursor position.)
            crossterm::queue!(
                self.terminal.backend_mut(),
                crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
            )?;
            self.terminal.swap_buffers();
        }
        self.terminal
            .draw(|f| crate::ui::draw(state, f))
            .map_err(|e| io::Error::other(e.to_string()))?;
        crossterm::execute!(
            self.terminal.backend_mut(),
            crossterm::terminal::EndSynchronizedUpdate
        )?;
        self.frames += 1;
        Ok(())
    }
    fn bell(&mut self) -> io::Result<()> {
        let b = self.terminal.backend_mut();
        b.write_all(b"\x07")?;
        io::Write::flush(b)
    }
    fn notify(&mut self, title: &str, body: &str) -> io::Result<()> {
        let esc = notification_escape(self.notify_style, title, body);
        let b = self.terminal.backend_mut();
        b.write_all(esc.as_bytes())?;
        io::Write::flush(b)
    }
}

fn to_action(ev: TermEvent) -> Option<Action> {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        TermEvent::Paste(s) => Some(Action::Paste(s)),
        TermEvent::Resize(..) => Some(Action::Resize),
        _ => None,
    }
}

/// Run the app until it quits; returns how it ended.
pub async fn run<S, I>(
    screen: &mut S,
    mut state: State,
    mut input: I,
    link_cfg: LinkConfig,
    mut pilot: Option<Box<dyn Pilot>>,
    pace: FramePace,
) -> Exit
where
    S: Screen,
    I: Stream<Item = io::Result<TermEvent>> + Unpin,
{
    let clock = Clock::new();
    let (act_tx, mut act_rx) = mpsc::unbounded_channel();
    let (req_tx, req_rx) = mpsc::unbounded_channel::<Outgoing>();
    let mut io = Io {
        requests: req_tx,
        actions: act_tx.clone(),
        audio: HashMap::new(),
        media_ip: media_ip(&link_cfg.url),
        tts: Default::default(),
    };
    let link_task = tokio::spawn(link::run(link_cfg, act_tx, req_rx));
    let mut budget = FrameBudget::new(Instant::now(), pace);
    let mut input_open = true;
    let far = Duration::from_secs(86_400);
    loop {
        if state.dirty && budget.take(Instant::now()) {
            let started = std::time::Instant::now();
            if let Err(e) = screen.draw(&state) {
                tracing::error!(error = %e, "cannot draw");
                state.exit = Some(Exit {
                    code: 1,
                    message: Some(format!("cannot draw on the terminal: {e}")),
                });
                break;
            }
            tracing::trace!(us = started.elapsed().as_micros() as u64, "frame");
            state.dirty = false;
        }
        if state.exit.is_some() {
            break;
        }
        let now_ms = clock.now_ms();
        if let Some(p) = pilot.as_mut() {
            for (sid, text) in p.speak(&state, now_ms) {
                io.say(sid, text);
            }
        }
        let tick_at = Instant::now() + Duration::from_millis(next_tick(&state, now_ms) - now_ms);
        let planned = pilot.as_mut().and_then(|p| p.next(&state, now_ms));
        let pilot_at = match planned {
            Some((at, _)) => Instant::now() + Duration::from_millis(at.saturating_sub(now_ms)),
            None => Instant::now() + far,
        };
        let frame_at = if state.dirty {
            budget.next_at()
        } else {
            Instant::now() + far
        };
        let action = tokio::select! {
            ev = input.next(), if input_open => match ev {
                Some(Ok(ev)) => to_action(ev),
                Some(Err(e)) => {
                    tracing::error!(error = %e, "terminal input failed");
                    input_open = false;
                    state.exit = Some(Exit { code: 1, message: Some(format!("terminal input failed: {e}")) });
                    None
                }
                None => {
                    input_open = false;
                    state.exit = Some(Exit { code: 1, message: Some("the terminal closed".into()) });
                    None
                }
            },
            a = act_rx.recv() => a,
            _ = tokio::time::sleep_until(tick_at) => Some(Action::Tick),
            _ = tokio::time::sleep_until(frame_at), if state.dirty => None,
            _ = tokio::time::sleep_until(pilot_at), if planned.is_some() => {
                let now = clock.now_ms();
                match pilot.as_mut().and_then(|p| p.next(&state, now)) {
                    Some((at, key)) if at <= now => {
                        let what = pilot.as_mut().and_then(|p| p.pressed(now));
                        if let Some(w) = what {
                            apply(screen, &mut state, Action::Note(format!("autopilot {w}")), &clock, &mut io);
                        }
                        Some(Action::Key(key))
                    }
                    _ => None,
                }
            }
        };
        let Some(action) = action else {
            continue;
        };
        apply(screen, &mut state, action, &clock, &mut io);
        // Merge a burst of server events into one frame.
        for _ in 0..256 {
            match act_rx.try_recv() {
                Ok(a) => apply(screen, &mut state, a, &clock, &mut io),
                Err(_) => break,
            }
        }
    }
    for (_, tx) in io.audio.drain() {
        let _ = tx.send(CallCmd::Stop);
    }
    drop(io);
    // Let the link say goodbye (close frame) without holding up the exit.
    let _ = tokio::time::timeout(Duration::from_millis(200), link_task).await;
    state.exit.unwrap_or(Exit {
        code: 0,
        message: None,
    })
}

/// What effects reach: the link, the loop's own queue, the audio tasks.
struct Io {
    requests: mpsc::UnboundedSender<Outgoing>,
    actions: mpsc::UnboundedSender<Action>,
    audio: HashMap<String, mpsc::UnboundedSender<CallCmd>>,
    media_ip: IpAddr,
    /// Text to speech for the autopilot: probed on first use (None when
    /// missing, said once).
    tts: std::sync::Arc<std::sync::OnceLock<Option<crate::speech::Tts>>>,
}

impl Io {
    /// Say `text` in session `sid`'s audio: synthesised off the loop, then
    /// mixed into the microphone stream by the call's audio task.
    fn say(&self, sid: String, text: String) {
        let Some(call) = self.audio.get(&sid).cloned() else {
            return;
        };
        let cell = self.tts.clone();
        let actions = self.actions.clone();
        tokio::task::spawn_blocking(move || {
            let tts = cell.get_or_init(|| {
                crate::speech::Tts::probe()
                    .map_err(|e| {
                        let note = format!("the autopilot cannot speak: {e}");
                        let _ = actions.send(Action::Note(note));
                    })
                    .ok()
            });
            let Some(tts) = tts else { return };
            match tts.synthesize(&text, crate::speech::Voice::Slt) {
                Ok(pcm) => {
                    let _ = call.send(CallCmd::Say(pcm));
                }
                Err(e) => tracing::warn!(error = %e, "the autopilot cannot say a line"),
            }
        });
    }
}

/// The address audio sockets bind: loopback for a server on this machine,
/// else every interface (ICE offers the ones that work).
pub fn media_ip(url: &str) -> IpAddr {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    // Strip the port ([v6]:port or host:port).
    let host = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

fn audio_backend(state: &State) -> AudioBackend {
    match state.audio.setting {
        AudioSetting::Null | AudioSetting::Off => AudioBackend::Null,
        AudioSetting::System => AudioBackend::System(DeviceChoice {
            microphone: state.audio.microphone.clone(),
            speaker: state.audio.speaker.clone(),
        }),
    }
}

fn apply<S: Screen>(screen: &mut S, state: &mut State, action: Action, clock: &Clock, io: &mut Io) {
    for fx in reduce(state, action, clock.now_ms()) {
        match fx {
            Effect::Request { id, method, params } => {
                tracing::debug!(id, method, "request");
                let _ = io.requests.send(Outgoing { id, method, params });
            }
            Effect::AudioStart { session_id } => {
                let actions = io.actions.clone();
                let sid = session_id.clone();
                let tx = call::spawn(io.media_ip, audio_backend(state), move |event| {
                    let _ = actions.send(Action::Audio {
                        session_id: sid.clone(),
                        event,
                    });
                });
                if let Some(old) = io.audio.insert(session_id, tx) {
                    let _ = old.send(CallCmd::Stop);
                }
            }
            Effect::AudioCmd { session_id, cmd } => {
                if let Some(tx) = io.audio.get(&session_id) {
                    let _ = tx.send(cmd);
                }
            }
            Effect::AudioStop { session_id } => {
                if let Some(tx) = io.audio.remove(&session_id) {
                    let _ = tx.send(CallCmd::Stop);
                }
            }
            Effect::ListDevices => {
                let actions = io.actions.clone();
                tokio::spawn(async move {
                    // Probing opens each device: off the loop's thread.
                    let list = tokio::task::spawn_blocking(crate::media::device::list)
                        .await
                        .unwrap_or_default();
                    let _ = actions.send(Action::Devices(list));
                });
            }
            Effect::SaveDevices {
                path,
                microphone,
                speaker,
            } => {
                let actions = io.actions.clone();
                tokio::spawn(async move {
                    let shown = path.display().to_string();
                    let saved = tokio::task::spawn_blocking(move || {
                        super::config::save_devices(
                            &path,
                            microphone.as_deref(),
                            speaker.as_deref(),
                        )
                        .map_err(|e| e.to_string())
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                    let note = match saved {
                        Ok(()) => format!("audio devices saved to {shown}"),
                        Err(e) => format!("audio devices not saved: {e}"),
                    };
                    let _ = actions.send(Action::Note(note));
                });
            }
            Effect::Bell => {
                if let Err(e) = screen.bell() {
                    tracing::warn!(error = %e, "bell");
                }
            }
            Effect::Notify { title, body } => {
                if let Err(e) = screen.notify(&title, &body) {
                    tracing::warn!(error = %e, "notification");
                }
            }
            Effect::Quit => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_budget_allows_bursts_and_caps_the_rate() {
        let t0 = Instant::now();
        let mut b = FrameBudget::new(t0, FramePace::AGENT);
        for _ in 0..4 {
            assert!(b.take(t0), "a burst of four is drawn at once");
        }
        assert!(!b.take(t0), "then the rate applies");
        let next = b.next_at();
        assert_eq!(next.duration_since(t0).as_millis(), 33);
        assert!(b.take(next));
        // Sustained: one second yields about 30 frames after the burst.
        let mut n = 0;
        let mut t = next;
        while t < next + Duration::from_secs(1) {
            t += Duration::from_millis(1);
            if b.take(t) {
                n += 1;
            }
        }
        assert!((29..=31).contains(&n), "{n} frames in a second");
    }

    #[test]
    fn audio_binds_loopback_for_a_local_server() {
        assert_eq!(
            media_ip("ws://127.0.0.1:7070/ws"),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            media_ip("ws://localhost:7070/ws"),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            media_ip("ws://[::1]:7070/ws"),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            media_ip("wss://cc.example.com/ws"),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(
            media_ip("ws://10.0.0.5:7070/ws"),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(media_ip("garbage"), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn notifications_cannot_break_out_of_their_escape() {
        let e = notification_escape(
            NotifyStyle::Osc777,
            "ccdesk: chat",
            "Mia;\x1b]0;pwned\x07 hi",
        );
        assert_eq!(e, "\x1b]777;notify;ccdesk: chat;Mia]0pwned hi\x1b\\");
        let e = notification_escape(NotifyStyle::Osc9, "t", "b");
        assert_eq!(e, "\x1b]9;t: b\x1b\\");
    }
}
