//! Colours and symbols. With NO_COLOR (or a terminal without colours) every
//! state is still told apart by symbols and bold/reverse, never by colour alone.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::widgets::{Block, Borders};

use crate::app::state::{Caps, Phase};
use crate::protocol::{AgentStatus, CallType, Flow};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub unicode: bool,
}

impl Theme {
    pub fn new(caps: Caps) -> Theme {
        Theme {
            color: caps.color,
            unicode: caps.unicode,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }
    pub fn focused_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    pub fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn info(&self) -> Style {
        self.fg(Color::Yellow)
    }
    /// A chat's unread count: bold, so it shows without colour too.
    pub fn unread(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn banner(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn phase(&self, p: Phase) -> Style {
        match p {
            Phase::Ringing => self
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::SLOW_BLINK),
            Phase::Dialing => self.fg(Color::Yellow),
            Phase::Talking => self.fg(Color::Green).add_modifier(Modifier::BOLD),
            Phase::Held => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Phase::Ended => self.dim(),
        }
    }

    pub fn phase_symbol(&self, p: Phase) -> &'static str {
        match (p, self.unicode) {
            (Phase::Ringing, true) => "☎",
            (Phase::Ringing, false) => "*",
            (Phase::Dialing, true) => "↗",
            (Phase::Dialing, false) => ">",
            (Phase::Talking, true) => "●",
            (Phase::Talking, false) => "o",
            (Phase::Held, true) => "‖",
            (Phase::Held, false) => "=",
            (Phase::Ended, true) => "✕",
            (Phase::Ended, false) => "x",
        }
    }

    pub fn status(&self, s: Option<AgentStatus>) -> Style {
        let c = match s {
            Some(AgentStatus::Free) => Color::Green,
            Some(AgentStatus::Busy) => Color::Red,
            Some(AgentStatus::Arrange) => Color::Yellow,
            Some(AgentStatus::Rest) | Some(AgentStatus::NotReady) => Color::Magenta,
            Some(AgentStatus::Offline) | None => Color::DarkGray,
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }

    pub fn status_symbol(&self, s: Option<AgentStatus>) -> &'static str {
        match (s, self.unicode) {
            (Some(AgentStatus::Free), true) => "●",
            (Some(AgentStatus::Free), false) => "+",
            (Some(AgentStatus::Busy), true) => "◆",
            (Some(AgentStatus::Busy), false) => "#",
            (Some(AgentStatus::Arrange), true) => "✎",
            (Some(AgentStatus::Arrange), false) => "~",
            (Some(AgentStatus::NotReady), true) | (Some(AgentStatus::Rest), true) => "◐",
            (Some(AgentStatus::NotReady), false) | (Some(AgentStatus::Rest), false) => "-",
            (_, true) => "○",
            (_, false) => ".",
        }
    }

    pub fn flow(&self, f: Flow) -> Style {
        match f {
            Flow::In => self.fg(Color::Cyan),
            Flow::Out => self.fg(Color::Green),
        }
    }

    /// IN and OUT are told apart by their label and arrow, not by colour.
    pub fn flow_label(&self, f: Flow) -> &'static str {
        match (f, self.unicode) {
            (Flow::In, true) => "IN  ▸",
            (Flow::In, false) => "IN  >",
            (Flow::Out, true) => "OUT ◂",
            (Flow::Out, false) => "OUT <",
        }
    }

    pub fn partial_mark(&self) -> &'static str {
        if self.unicode {
            " …"
        } else {
            " ..."
        }
    }

    pub fn kind_label(&self, k: CallType) -> &'static str {
        match k {
            CallType::Phone => "PHONE",
            CallType::Im => "CHAT",
            CallType::Voip => "VOIP",
            CallType::Video => "VIDEO",
            CallType::Internal => "INTERNAL",
        }
    }

    /// A session's kind as labelled on screen: a consult leg is a
    /// consult, not just an internal call; a queued callback is a
    /// callback, not just a phone call.
    pub fn session_label(&self, s: &crate::app::state::Session) -> &'static str {
        if s.consult_of().is_some() {
            "CONSULT"
        } else if s.callback().is_some() {
            "CALLBACK"
        } else {
            self.kind_label(s.kind)
        }
    }

    pub fn sep(&self) -> &'static str {
        if self.unicode {
            " · "
        } else {
            " | "
        }
    }

    pub fn arrow(&self) -> &'static str {
        if self.unicode {
            " › "
        } else {
            " > "
        }
    }

    pub fn marker(&self) -> &'static str {
        if self.unicode {
            "▶ "
        } else {
            "> "
        }
    }

    /// A bordered block: box drawing, or + - | without UTF-8.
    pub fn block(&self) -> Block<'static> {
        const ASCII: border::Set = border::Set {
            top_left: "+",
            top_right: "+",
            bottom_left: "+",
            bottom_right: "+",
            vertical_left: "|",
            vertical_right: "|",
            horizontal_top: "-",
            horizontal_bottom: "-",
        };
        let b = Block::default().borders(Borders::ALL);
        if self.unicode {
            b
        } else {
            b.border_set(ASCII)
        }
    }

    /// A pane: bordered, titled, its border bright while it has the focus.
    pub fn panel(&self, title: String, focused: bool) -> Block<'static> {
        self.block()
            .border_style(if focused {
                self.focused_border()
            } else {
                self.border()
            })
            .title(ratatui::text::Span::styled(title, self.title()))
    }

    /// Keys pressed on a phone's keypad.
    pub fn keypad(&self) -> &'static str {
        if self.unicode {
            "⌨"
        } else {
            "#"
        }
    }

    /// Where something goes (an overflow to another group).
    pub fn goes_to(&self) -> &'static str {
        if self.unicode {
            "→"
        } else {
            ">"
        }
    }

    pub fn ellipsis(&self) -> &'static str {
        if self.unicode {
            "…"
        } else {
            "~"
        }
    }

    /// The supervisor's wallboard: a seat with no tab open.
    pub fn disconnected(&self) -> &'static str {
        if self.unicode {
            "✗"
        } else {
            "!"
        }
    }

    /// The supervisor's wallboard: a session monitored in a panel.
    pub fn watched(&self) -> &'static str {
        if self.unicode {
            "◉"
        } else {
            "*"
        }
    }

    /// A request for help: the agent's own, and a seat's on the wallboard.
    pub fn help_flag(&self) -> &'static str {
        if self.unicode {
            "⚑"
        } else {
            "?"
        }
    }

    /// What must not be missed (the recording paused): white on red, or
    /// reversed and bold without colours.
    pub fn alarm(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// How a supervisor monitors a call: listening or reading along is
    /// information, coaching is heard by the agent, barging in by everyone.
    pub fn monitor_mode(&self, m: crate::protocol::MonitorMode) -> Style {
        use crate::protocol::MonitorMode;
        match m {
            MonitorMode::Text | MonitorMode::Listen => self.info(),
            MonitorMode::Coach => self.info().add_modifier(Modifier::BOLD),
            MonitorMode::Barge => self.error(),
        }
    }

    /// Sparkline bars: block elements, or ASCII shades without UTF-8.
    pub fn bars(&self) -> ratatui::symbols::bar::Set<'static> {
        const ASCII: ratatui::symbols::bar::Set<'static> = ratatui::symbols::bar::Set {
            full: "#",
            seven_eighths: "#",
            three_quarters: "=",
            five_eighths: "=",
            half: "-",
            three_eighths: "-",
            one_quarter: "_",
            one_eighth: "_",
            empty: " ",
        };
        if self.unicode {
            ratatui::symbols::bar::NINE_LEVELS
        } else {
            ASCII
        }
    }

    /// The queue-length sparkline.
    pub fn spark_queue(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// The service-level sparkline.
    pub fn spark_level(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(&self) -> &'static str {
        if self.unicode {
            "⚠ "
        } else {
            "! "
        }
    }
}
