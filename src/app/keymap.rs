//! Key bindings: which key runs which command. Every binding can be changed in
//! the client config's `[keys]` table; the help overlay is drawn from this map.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key with its modifiers, as written in the config: `a`, `A`, `ctrl-c`,
/// `enter`, `tab`, `backtab`, `up`, `pagedown`, `f1`, `space`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    pub code: ChordCode,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChordCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Delete,
    F(u8),
}

impl Chord {
    pub const fn plain(c: char) -> Chord {
        Chord {
            code: ChordCode::Char(c),
            ctrl: false,
            alt: false,
        }
    }
    pub const fn code(code: ChordCode) -> Chord {
        Chord {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// The chord of a terminal key event (shift is folded into the character).
    pub fn from_event(k: &KeyEvent) -> Option<Chord> {
        let code = match k.code {
            KeyCode::Char(c) => ChordCode::Char(c),
            KeyCode::Enter => ChordCode::Enter,
            KeyCode::Esc => ChordCode::Esc,
            KeyCode::Tab => ChordCode::Tab,
            KeyCode::BackTab => ChordCode::BackTab,
            KeyCode::Backspace => ChordCode::Backspace,
            KeyCode::Up => ChordCode::Up,
            KeyCode::Down => ChordCode::Down,
            KeyCode::Left => ChordCode::Left,
            KeyCode::Right => ChordCode::Right,
            KeyCode::PageUp => ChordCode::PageUp,
            KeyCode::PageDown => ChordCode::PageDown,
            KeyCode::Home => ChordCode::Home,
            KeyCode::End => ChordCode::End,
            KeyCode::Delete => ChordCode::Delete,
            KeyCode::F(n) => ChordCode::F(n),
            _ => return None,
        };
        Some(Chord {
            code,
            ctrl: k.modifiers.contains(KeyModifiers::CONTROL),
            alt: k.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// The key event this chord stands for (what the autopilot presses).
    pub fn to_event(self) -> KeyEvent {
        let code = match self.code {
            ChordCode::Char(c) => KeyCode::Char(c),
            ChordCode::Enter => KeyCode::Enter,
            ChordCode::Esc => KeyCode::Esc,
            ChordCode::Tab => KeyCode::Tab,
            ChordCode::BackTab => KeyCode::BackTab,
            ChordCode::Backspace => KeyCode::Backspace,
            ChordCode::Up => KeyCode::Up,
            ChordCode::Down => KeyCode::Down,
            ChordCode::Left => KeyCode::Left,
            ChordCode::Right => KeyCode::Right,
            ChordCode::PageUp => KeyCode::PageUp,
            ChordCode::PageDown => KeyCode::PageDown,
            ChordCode::Home => KeyCode::Home,
            ChordCode::End => KeyCode::End,
            ChordCode::Delete => KeyCode::Delete,
            ChordCode::F(n) => KeyCode::F(n),
        };
        let mut m = KeyModifiers::NONE;
        if self.ctrl {
            m |= KeyModifiers::CONTROL;
        }
        if self.alt {
            m |= KeyModifiers::ALT;
        }
        KeyEvent::new(code, m)
    }

    /// Parse the config spelling.
    pub fn parse(s: &str) -> Result<Chord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 5 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 4 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => ChordCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => ChordCode::Enter,
                "esc" | "escape" => ChordCode::Esc,
                "tab" => ChordCode::Tab,
                "backtab" | "shift-tab" => ChordCode::BackTab,
                "backspace" => ChordCode::Backspace,
                "up" => ChordCode::Up,
                "down" => ChordCode::Down,
                "left" => ChordCode::Left,
                "right" => ChordCode::Right,
                "pageup" | "pgup" => ChordCode::PageUp,
                "pagedown" | "pgdn" => ChordCode::PageDown,
                "home" => ChordCode::Home,
                "end" => ChordCode::End,
                "delete" | "del" => ChordCode::Delete,
                "space" => ChordCode::Char(' '),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=24).contains(&n) => ChordCode::F(n),
                    _ => return Err(format!("`{s}` is not a key")),
                },
                _ => {
                    return Err(format!(
                    "`{s}` is not a key (try a, A, ctrl-x, enter, tab, up, pagedown, f1, space)"
                ))
                }
            },
        };
        if ctrl {
            if let ChordCode::Char(c) = code {
                return Ok(Chord {
                    code: ChordCode::Char(c.to_ascii_lowercase()),
                    ctrl,
                    alt,
                });
            }
        }
        Ok(Chord { code, ctrl, alt })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            ChordCode::Char(' ') => f.write_str("space"),
            ChordCode::Char(c) => write!(f, "{c}"),
            ChordCode::Enter => f.write_str("enter"),
            ChordCode::Esc => f.write_str("esc"),
            ChordCode::Tab => f.write_str("tab"),
            ChordCode::BackTab => f.write_str("backtab"),
            ChordCode::Backspace => f.write_str("backspace"),
            ChordCode::Up => f.write_str("up"),
            ChordCode::Down => f.write_str("down"),
            ChordCode::Left => f.write_str("left"),
            ChordCode::Right => f.write_str("right"),
            ChordCode::PageUp => f.write_str("pageup"),
            ChordCode::PageDown => f.write_str("pagedown"),
            ChordCode::Home => f.write_str("home"),
            ChordCode::End => f.write_str("end"),
            ChordCode::Delete => f.write_str("delete"),
            ChordCode::F(n) => write!(f, "f{n}"),
        }
    }
}

macro_rules! commands {
    ($( $variant:ident = $name:literal, [$($key:expr),*], $help:literal; )*) => {
        /// Everything a key can do outside dialogs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command { $( $variant, )* }

        impl Command {
            pub const ALL: &'static [Command] = &[ $( Command::$variant, )* ];
            /// The name used in the config's `[keys]` table.
            pub fn name(self) -> &'static str {
                match self { $( Command::$variant => $name, )* }
            }
            pub fn help(self) -> &'static str {
                match self { $( Command::$variant => $help, )* }
            }
            fn defaults(self) -> Vec<Chord> {
                match self { $( Command::$variant => vec![$($key),*], )* }
            }
            pub fn from_name(s: &str) -> Option<Command> {
                match s { $( $name => Some(Command::$variant), )* _ => None }
            }
        }
    };
}

commands! {
    Accept = "accept", [Chord::plain('a')], "accept the ringing session";
    HangUp = "hang_up", [Chord::plain('h')], "hang up / end the selected session (declines an offer)";
    Hold = "hold", [Chord::plain('o')], "hold / unhold";
    Mute = "mute", [Chord::plain('m')], "mute / unmute the microphone";
    Camera = "camera", [Chord::plain('v')], "camera off / on (video)";
    Transfer = "transfer", [Chord::plain('t')], "transfer to a skill group or an agent";
    Consult = "consult", [Chord::plain('C')], "consult a colleague or a skill group (the customer holds)";
    CompleteTransfer = "complete_transfer", [Chord::plain('T')], "consult: hand the customer over to the colleague";
    Conference = "conference", [Chord::plain('K')], "consult: bring the customer in, all three talk";
    CancelConsult = "cancel_consult", [Chord::plain('X')], "consult: end it and go back to the customer";
    Swap = "swap", [Chord::plain('S')], "consult: select the customer's session or the colleague's";
    Dtmf = "dtmf", [Chord::plain('d')], "DTMF pad: digits 0-9 * # sent as typed";
    PauseRecording = "pause_recording", [Chord::plain('p')], "pause / resume the recording (card payments)";
    CallOut = "call_out", [Chord::plain('c')], "call out to a number";
    Internal = "internal_call", [Chord::plain('i')], "internal call to an agent";
    Status = "status", [Chord::plain('s')], "status menu: free, rest, arrange, notReady, online/offline";
    Delete = "delete", [Chord::plain('x')], "delete an ended session from the list";
    WrapUp = "wrap_up", [Chord::plain('u')], "wrap-up: code and notes of the session";
    AskHelp = "ask_help", [Chord::plain('!')], "ask a supervisor for help (about the selected session)";
    Chat = "chat", [Chord::code(ChordCode::Enter)], "write in the chat (chat sessions)";
    NextChat = "next_chat", [Chord::plain('n')], "next chat with unread messages";
    Up = "up", [Chord::code(ChordCode::Up), Chord::plain('k')], "previous session / scroll up";
    Down = "down", [Chord::code(ChordCode::Down), Chord::plain('j')], "next session / scroll down";
    Focus = "focus", [Chord::code(ChordCode::Tab)], "move focus: session list / transcript";
    PageUp = "page_up", [Chord::code(ChordCode::PageUp)], "scroll the transcript back";
    PageDown = "page_down", [Chord::code(ChordCode::PageDown)], "scroll the transcript forward";
    Follow = "follow", [Chord::code(ChordCode::End)], "follow the transcript live again";
    Compact = "compact", [Chord::plain('z')], "compact one-line mode / workbench";
    Hide = "hide", [Chord::plain('H')], "hide everything / show again";
    Toolbar = "toolbar", [Chord::plain('b')], "call bar on / off";
    Settings = "settings", [Chord::plain(',')], "settings: ringtone, notifications, call bar, audio devices";
    Help = "help", [Chord::plain('?'), Chord::code(ChordCode::F(1))], "this help";
    Quit = "quit", [Chord::plain('q')], "quit (asks first while a session is active)";
    Monitor = "monitor", [Chord::plain('w')], "supervisor: monitor the selected session as text (again: stop)";
    Listen = "listen", [Chord::plain('l')], "supervisor: listen to the selected session (audio monitor; again: text only)";
    Coach = "coach", [Chord::plain('W')], "supervisor: coach the agent, unheard by the customer (again: listen)";
    Barge = "barge", [Chord::plain('B')], "supervisor: barge in, heard by everyone (again: listen)";
    AnswerHelp = "answer_help", [Chord::plain('A')], "supervisor: acknowledge a request for help and listen to its call";
    Intercept = "intercept", [Chord::plain('I')], "supervisor: take over the monitored session";
    Report = "report", [Chord::plain('r')], "supervisor: today's report by agent and group (again: refresh)";
    SkillGroups = "skill_groups", [Chord::plain('G')], "supervisor: the selected agent's skill groups (admins: change them)";
    Users = "users", [Chord::plain('U')], "supervisor (admins): add a user; set the selected agent's password or remove them";
    View = "view", [Chord::plain('g')], "supervisor: switch between the floor and your call";
}

impl Command {
    /// Commands only the supervisor console has (left out of the agent's help).
    pub fn supervisor_only(self) -> bool {
        matches!(
            self,
            Command::Monitor
                | Command::Listen
                | Command::Coach
                | Command::Barge
                | Command::AnswerHelp
                | Command::Intercept
                | Command::Report
                | Command::SkillGroups
                | Command::Users
                | Command::View
        )
    }
}

/// Chord → command, plus the reverse for the help screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    map: BTreeMap<Chord, Command>,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = BTreeMap::new();
        for &c in Command::ALL {
            for k in c.defaults() {
                map.insert(k, c);
            }
        }
        Keymap { map }
    }
}

/// One `[keys]` entry: a key or a list of keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum KeySpec {
    One(String),
    Many(Vec<String>),
}

impl Keymap {
    /// The defaults with the config's `[keys]` table applied: a command named
    /// there gets exactly the keys given (the defaults for it are dropped).
    pub fn with_overrides(overrides: &BTreeMap<String, KeySpec>) -> Result<Keymap, String> {
        let mut km = Keymap::default();
        for (name, spec) in overrides {
            let cmd = Command::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "[keys]: `{name}` is not a command; commands are {}",
                    names.join(", ")
                )
            })?;
            let keys = match spec {
                KeySpec::One(k) => vec![k.clone()],
                KeySpec::Many(v) => v.clone(),
            };
            km.map.retain(|_, c| *c != cmd);
            for k in keys {
                let chord = Chord::parse(&k).map_err(|e| format!("[keys] {name}: {e}"))?;
                if let Some(old) = km.map.insert(chord, cmd) {
                    if old != cmd && overrides.contains_key(old.name()) {
                        return Err(format!(
                            "[keys]: `{chord}` is bound to both {} and {name}",
                            old.name()
                        ));
                    }
                }
            }
        }
        Ok(km)
    }

    pub fn lookup(&self, k: &KeyEvent) -> Option<Command> {
        let chord = Chord::from_event(k)?;
        // Shift is folded into the character: `A` arrives as SHIFT + 'A'.
        self.map.get(&chord).copied()
    }

    /// The keys bound to a command, in display order.
    pub fn keys_for(&self, cmd: Command) -> Vec<Chord> {
        self.map
            .iter()
            .filter(|(_, c)| **c == cmd)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The first key of a command as text (for hints), or "unbound".
    pub fn key_label(&self, cmd: Command) -> String {
        self.keys_for(cmd)
            .first()
            .map(|k| k.to_string())
            .unwrap_or_else(|| "unbound".into())
    }

    /// Help rows: (keys, description) for every command, in command order.
    pub fn help_rows(&self, supervisor: bool) -> Vec<(String, &'static str)> {
        Command::ALL
            .iter()
            .filter(|c| supervisor || !c.supervisor_only())
            .map(|&c| {
                let keys: Vec<String> = self.keys_for(c).iter().map(|k| k.to_string()).collect();
                let keys = if keys.is_empty() {
                    "unbound".to_string()
                } else {
                    keys.join(" ")
                };
                (keys, c.help())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let km = Keymap::default();
        for (c, cmd) in [
            ('a', Command::Accept),
            ('h', Command::HangUp),
            ('o', Command::Hold),
            ('m', Command::Mute),
            ('v', Command::Camera),
            ('t', Command::Transfer),
            ('d', Command::Dtmf),
            ('c', Command::CallOut),
            ('i', Command::Internal),
            ('s', Command::Status),
            ('x', Command::Delete),
            ('n', Command::NextChat),
            ('p', Command::PauseRecording),
            ('!', Command::AskHelp),
            ('W', Command::Coach),
            ('B', Command::Barge),
            ('A', Command::AnswerHelp),
            ('r', Command::Report),
            ('G', Command::SkillGroups),
            ('U', Command::Users),
            ('C', Command::Consult),
            ('T', Command::CompleteTransfer),
            ('K', Command::Conference),
            ('X', Command::CancelConsult),
            ('S', Command::Swap),
            ('z', Command::Compact),
            ('?', Command::Help),
            ('q', Command::Quit),
        ] {
            assert_eq!(km.lookup(&key(c)), Some(cmd), "key {c}");
        }
        assert_eq!(
            km.lookup(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Command::Chat)
        );
    }

    #[test]
    fn overrides_replace_a_commands_keys() {
        let mut o = BTreeMap::new();
        o.insert("accept".to_string(), KeySpec::One("ctrl-A".into()));
        o.insert(
            "hang_up".to_string(),
            KeySpec::Many(vec!["e".into(), "f9".into()]),
        );
        let km = Keymap::with_overrides(&o).expect("valid");
        assert_eq!(km.lookup(&key('a')), None);
        assert_eq!(
            km.lookup(&KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL)),
            Some(Command::Accept)
        );
        assert_eq!(km.lookup(&key('h')), None);
        assert_eq!(km.lookup(&key('e')), Some(Command::HangUp));
        assert_eq!(
            km.lookup(&KeyEvent::new(KeyCode::F(9), KeyModifiers::NONE)),
            Some(Command::HangUp)
        );
        let rows = km.help_rows(false);
        assert!(rows
            .iter()
            .any(|(k, h)| k == "e f9" && h.starts_with("hang up")));
    }

    #[test]
    fn bad_overrides_name_the_problem() {
        let mut o = BTreeMap::new();
        o.insert("answer".to_string(), KeySpec::One("a".into()));
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("`answer` is not a command"), "{e}");
        let mut o = BTreeMap::new();
        o.insert("accept".to_string(), KeySpec::One("ctrl-".into()));
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("not a key"), "{e}");
        let mut o = BTreeMap::new();
        o.insert("accept".to_string(), KeySpec::One("y".into()));
        o.insert("hang_up".to_string(), KeySpec::One("y".into()));
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("bound to both"), "{e}");
    }

    #[test]
    fn chords_round_trip_through_key_events() {
        for s in [
            "a", "A", "ctrl-x", "alt-q", "enter", "tab", "f12", "space", "?", "pagedown",
        ] {
            let c = Chord::parse(s).expect(s);
            assert_eq!(Chord::from_event(&c.to_event()), Some(c), "{s}");
        }
    }

    #[test]
    fn chords_round_trip_through_their_spelling() {
        for s in [
            "a", "A", "ctrl-x", "alt-q", "enter", "tab", "f12", "space", "?", "pagedown",
        ] {
            let c = Chord::parse(s).expect(s);
            assert_eq!(Chord::parse(&c.to_string()), Ok(c), "{s}");
        }
    }

    #[test]
    fn the_agent_docs_list_every_command() {
        let doc = include_str!("../../docs/AGENT.md");
        for c in Command::ALL.iter().filter(|c| !c.supervisor_only()) {
            assert!(
                doc.contains(&format!("`{}`", c.name())),
                "docs/AGENT.md lacks `{}`",
                c.name()
            );
        }
        let doc = include_str!("../../docs/SUPERVISOR.md");
        for c in Command::ALL.iter().filter(|c| c.supervisor_only()) {
            assert!(
                doc.contains(&format!("`{}`", c.name())),
                "docs/SUPERVISOR.md lacks `{}`",
                c.name()
            );
        }
    }
}
