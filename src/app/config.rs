//! The agent terminal's own configuration: TOML in the platform's config
//! directory (`~/.config/ccdesk/agent.toml` on Linux), created with comments
//! on first run. Command-line flags and `CCDESK_TOKEN` override it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keymap::{KeySpec, Keymap};
use super::state::Settings;

/// How desktop notifications are sent (both work over SSH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyStyle {
    /// `ESC ] 777 ; notify ; title ; body BEL` (urxvt, foot, ghostty, WezTerm, VTE).
    #[default]
    Osc777,
    /// `ESC ] 9 ; body BEL` (iTerm2, Windows Terminal, kitty, WezTerm).
    Osc9,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsConfig {
    pub disable_ringtone: Option<bool>,
    pub disable_notification: Option<bool>,
    pub toolbar: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// `ws://host:port/ws` or `wss://host:port/ws`.
    pub server: Option<String>,
    /// A private CA's certificate (PEM) for a `wss://` server, beside the
    /// system's roots (`--ca`).
    pub ca: Option<std::path::PathBuf>,
    pub user: Option<String>,
    /// Better given by `CCDESK_TOKEN` than written here.
    pub token: Option<String>,
    #[serde(default)]
    pub enable_shared: bool,
    pub rest_reasons: Option<Vec<String>>,
    #[serde(default)]
    pub notification: NotifyStyle,
    #[serde(default)]
    pub settings: SettingsConfig,
    #[serde(default)]
    pub keys: BTreeMap<String, KeySpec>,
    #[serde(default)]
    pub supervise: SuperviseConfig,
    #[serde(default)]
    pub audio: AudioConfig,
}

/// `[audio]`: call audio.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioConfig {
    /// "system" (the sound card, or silence when there is none), "null"
    /// (audio flows, nothing is played), or "off" (no audio at all).
    pub backend: Option<AudioBackendName>,
    /// Device names as `ccdesk devices` lists them; unset: the default.
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// The values of `[audio] backend` and `--audio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AudioBackendName {
    System,
    Null,
    Off,
}

impl AudioBackendName {
    pub fn setting(self) -> crate::app::state::AudioSetting {
        use crate::app::state::AudioSetting;
        match self {
            AudioBackendName::System => AudioSetting::System,
            AudioBackendName::Null => AudioSetting::Null,
            AudioBackendName::Off => AudioSetting::Off,
        }
    }
}

/// `[supervise]`: the supervisor console.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseConfig {
    /// Frames a second at most (default 10).
    pub frame_rate: Option<f64>,
}

/// The file written on first run: every key, commented out, with its default.
pub const TEMPLATE: &str = r#"# ccdesk agent terminal configuration.
# Every setting is optional; command-line flags override this file.

# The contact center to connect to (what `ccdesk serve` printed).
# server = "ws://127.0.0.1:7070/ws"
# The agent to log in as.
# user = "alice"
# The login token (from `ccdesk token --user alice`). Prefer the CCDESK_TOKEN
# environment variable: a token in a file is readable by whoever reads the file.
# token = ""
# Multi-tab: let several terminals of the same agent stay logged in.
# enable_shared = false
# Break reasons offered by the status menu (the server must know them).
# rest_reasons = ["Meal", "Meeting", "Training"]
# Desktop notification escape: "osc777" or "osc9".
# notification = "osc777"

[settings]
# No terminal bell when a session rings.
# disable_ringtone = false
# No desktop notification when a session rings.
# disable_notification = false
# Show the call bar.
# toolbar = true

[keys]
# Each command takes a key or a list of keys: "a", "A", "ctrl-x", "alt-q",
# "enter", "esc", "tab", "backtab", "up", "down", "pageup", "pagedown",
# "home", "end", "f1".."f24", "space". Naming a command replaces its defaults.
# accept = "a"
# hang_up = "h"
# hold = "o"
# mute = "m"
# camera = "v"
# transfer = "t"
# consult = "C"
# complete_transfer = "T"
# conference = "K"
# cancel_consult = "X"
# swap = "S"
# dtmf = "d"
# pause_recording = "p"
# call_out = "c"
# internal_call = "i"
# status = "s"
# delete = "x"
# wrap_up = "u"
# ask_help = "!"
# chat = "enter"
# next_chat = "n"
# up = ["up", "k"]
# down = ["down", "j"]
# focus = "tab"
# page_up = "pageup"
# page_down = "pagedown"
# follow = "end"
# compact = "z"
# hide = "H"
# toolbar = "b"
# settings = ","
# help = ["?", "f1"]
# quit = "q"
# The supervisor console's own commands:
# monitor = "w"
# listen = "l"
# coach = "W"
# barge = "B"
# answer_help = "A"
# intercept = "I"
# report = "r"
# skill_groups = "G"
# users = "U"
# view = "g"

[supervise]
# Frames a second at most in `ccdesk supervise` (lower it on a slow link).
# frame_rate = 10

[audio]
# "system": the sound card (with no sound card, a silent device, said once);
# "null": audio flows with the server but nothing is played or captured;
# "off": no call audio at all. `--audio` overrides it.
# backend = "system"
# Devices by name, as `ccdesk devices` lists them (unset: the default ones).
# microphone = "..."
# speaker = "..."
"#;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The default place of the file, if the platform has a config directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ccdesk").map(|d| d.config_dir().join("agent.toml"))
}

/// Where logs go: the state directory (or the local data directory).
pub fn log_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ccdesk").map(|d| {
        d.state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| d.data_local_dir().to_path_buf())
    })
}

/// Set the `[audio]` table's `microphone` and `speaker` in the file at
/// `path` (None removes the key: the system default), keeping everything
/// else in it (comments, order, other tables) as it was. A missing file is
/// started from the commented template. The file is replaced in one step
/// (written beside it, then renamed), and only if the result still parses.
pub fn save_devices(
    path: &Path,
    microphone: Option<&str>,
    speaker: Option<&str>,
) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TEMPLATE.to_string(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| invalid(format!("{e}")))?;
    let audio = doc
        .entry("audio")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
        .as_table_mut()
        .ok_or_else(|| invalid("`audio` is not a table".into()))?;
    for (key, value) in [("microphone", microphone), ("speaker", speaker)] {
        match value {
            Some(v) => {
                audio.insert(key, toml_edit::value(v));
            }
            None => {
                audio.remove(key);
            }
        }
    }
    let out = doc.to_string();
    ClientConfig::parse(&out, path)?;
    let create = |source| ConfigError::Create {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(create)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(create)?;
    std::io::Write::write_all(&mut tmp, out.as_bytes()).map_err(create)?;
    tmp.persist(path).map_err(|e| create(e.error))?;
    Ok(())
}

impl ClientConfig {
    /// Read the file; if it does not exist, write the commented template and
    /// return the defaults. The bool says whether the file was created.
    pub fn load_or_create(path: &Path) -> Result<(ClientConfig, bool), ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((ClientConfig::parse(&text, path)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| ConfigError::Create {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                std::fs::write(path, TEMPLATE).map_err(|source| ConfigError::Create {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok((ClientConfig::default(), true))
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<ClientConfig, ConfigError> {
        let cfg: ClientConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.keymap().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        if let Some(r) = &cfg.rest_reasons {
            if r.is_empty() || r.iter().any(|x| x.trim().is_empty()) {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: "rest_reasons must be a non-empty list of non-empty names".into(),
                });
            }
        }
        Ok(cfg)
    }

    pub fn keymap(&self) -> Result<Keymap, String> {
        Keymap::with_overrides(&self.keys)
    }

    /// The terminal's audio: `flag` (`--audio`) over `[audio] backend`,
    /// else the sound card; devices from `[audio]`.
    pub fn audio(&self, flag: Option<AudioBackendName>) -> crate::app::state::Audio {
        crate::app::state::Audio {
            setting: flag
                .or(self.audio.backend)
                .map(|b| b.setting())
                .unwrap_or_default(),
            microphone: self.audio.microphone.clone(),
            speaker: self.audio.speaker.clone(),
            ..Default::default()
        }
    }

    pub fn initial_settings(&self) -> Settings {
        let d = Settings::default();
        Settings {
            disable_ringtone: self.settings.disable_ringtone.unwrap_or(d.disable_ringtone),
            disable_notification: self
                .settings
                .disable_notification
                .unwrap_or(d.disable_notification),
            toolbar: self.settings.toolbar.unwrap_or(d.toolbar),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_the_defaults() {
        let c = ClientConfig::parse(TEMPLATE, Path::new("agent.toml")).expect("template");
        assert_eq!(c, ClientConfig::default());
        // Every command appears in the template, so the file documents them all.
        for cmd in super::super::keymap::Command::ALL {
            assert!(
                TEMPLATE.contains(&format!("# {} = ", cmd.name())),
                "{}",
                cmd.name()
            );
        }
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let e = ClientConfig::parse("servre = \"x\"", Path::new("/tmp/a.toml")).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("/tmp/a.toml") && m.contains("servre"), "{m}");
        let e = ClientConfig::parse("[keys]\naccept = \"ctrl-\"", Path::new("a.toml")).unwrap_err();
        assert!(e.to_string().contains("[keys] accept"), "{e}");
    }

    #[test]
    fn first_run_creates_the_commented_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/agent.toml");
        let (c, created) = ClientConfig::load_or_create(&path).expect("create");
        assert!(created);
        assert_eq!(c, ClientConfig::default());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), TEMPLATE);
        let (_, created) = ClientConfig::load_or_create(&path).expect("load");
        assert!(!created);
    }

    #[test]
    fn a_picked_device_is_saved_with_the_rest_of_the_file_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        let before = "# my terminal\nserver = \"ws://10.0.0.5:7070/ws\" # the office\n\n[keys]\naccept = \"A\"\n\n[audio]\n# which card\nbackend = \"system\"\nspeaker = \"Old speaker\"\n";
        std::fs::write(&path, before).expect("write");
        save_devices(&path, Some("USB Headset [hw:1,0]"), None).expect("save");
        let after = std::fs::read_to_string(&path).expect("read");
        for kept in [
            "# my terminal",
            "# the office",
            "accept = \"A\"",
            "# which card",
        ] {
            assert!(after.contains(kept), "{kept} is kept:\n{after}");
        }
        assert!(!after.contains("Old speaker"), "None removes it:\n{after}");
        let (c, created) = ClientConfig::load_or_create(&path).expect("load");
        assert!(!created);
        assert_eq!(c.audio.microphone.as_deref(), Some("USB Headset [hw:1,0]"));
        assert_eq!(c.audio.speaker, None);
        assert_eq!(c.server.as_deref(), Some("ws://10.0.0.5:7070/ws"));
        // Names with quotes and backslashes survive the round trip.
        save_devices(&path, Some(r#"Mic "2" \ front"#), Some("Speaker")).expect("save");
        let (c, _) = ClientConfig::load_or_create(&path).expect("load");
        assert_eq!(c.audio.microphone.as_deref(), Some(r#"Mic "2" \ front"#));
        assert_eq!(c.audio.speaker.as_deref(), Some("Speaker"));
    }

    #[test]
    fn saving_devices_without_a_file_starts_from_the_template() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new/agent.toml");
        save_devices(&path, None, Some("Speakers")).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("# The agent to log in as."), "{text}");
        let c = ClientConfig::parse(&text, &path).expect("parses");
        assert_eq!(c.audio.speaker.as_deref(), Some("Speakers"));
    }

    #[test]
    fn a_broken_file_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "[audio\nbackend = 1").expect("write");
        let e = save_devices(&path, Some("Mic"), None).expect_err("not toml");
        assert!(e.to_string().contains("agent.toml"), "{e}");
        // A file that parses as TOML but not as a config is refused too.
        std::fs::write(&path, "audio = 3\n").expect("write");
        let e = save_devices(&path, Some("Mic"), None).expect_err("audio not a table");
        assert!(e.to_string().contains("audio"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "audio = 3\n");
    }
}
