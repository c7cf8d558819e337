//! The floor's lists: the seats, the queues and the live sessions.

use super::*;

/// An agent's status in words: a break shows its reason (`long`: with the
/// word rest too).
pub(super) fn agent_status(a: &BoardAgent, long: bool) -> String {
    match (a.status, &a.rest_reason) {
        (AgentStatus::Rest, Some(r)) if long => format!("rest ({r})"),
        (AgentStatus::Rest, Some(r)) => r.clone(),
        (s, _) => s.as_str().to_string(),
    }
}

/// The session an agent is in (or that rings at the seat), if live.
pub(super) fn agent_session<'a>(b: &'a Board, a: &BoardAgent) -> Option<&'a BoardSession> {
    a.session_id
        .as_deref()
        .or(a.offer_id.as_deref())
        .and_then(|id| b.live_session(id))
}

pub(super) fn session_symbol(s: &BoardSession, theme: &Theme) -> &'static str {
    theme.phase_symbol(Phase::from_state(s.state))
}

pub(super) fn session_style(s: &BoardSession, theme: &Theme) -> Style {
    match s.state {
        SessionState::Queued => theme.info(),
        st => theme.phase(Phase::from_state(st)),
    }
}

/// Talk time once answered, else the time since it started.
pub(super) fn session_clock(s: &BoardSession, now: u64) -> String {
    clock(now.saturating_sub(s.accepted_at.unwrap_or(s.started_at)))
}

pub(super) fn agents(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let focused = b.pane == BoardPane::Agents;
    let list = &b.wall.agents;
    let free = list
        .iter()
        .filter(|a| a.connected && a.status == AgentStatus::Free)
        .count();
    let lost = list.iter().filter(|a| !a.connected).count();
    let title = if !b.loaded {
        " Agents ".into()
    } else if lost > 0 {
        // The legend of the mark of a seat without a tab open.
        format!(
            " Agents {} ({free} free{}{lost} {} lost) ",
            list.len(),
            theme.sep(),
            theme.disconnected()
        )
    } else {
        format!(" Agents {} ({free} free) ", list.len())
    };
    let block = theme.panel(title, focused);
    if !b.loaded {
        return loading(f, area, block, theme);
    }
    if list.is_empty() {
        return empty(f, area, block, "no agents", theme);
    }
    let now = state.now;
    let sym_w = 2; // a status symbol and a space
    let since: Vec<String> = list
        .iter()
        .map(|a| clock(now.saturating_sub(a.status_since)))
        .collect();
    let calls: Vec<Option<&BoardSession>> = list.iter().map(|a| agent_session(b, a)).collect();
    let talk: Vec<String> = calls
        .iter()
        .map(|s| {
            s.map_or_else(String::new, |s| {
                format!("{} {}", session_symbol(s, theme), session_clock(s, now))
            })
        })
        .collect();
    let groups: Vec<String> = list.iter().map(|a| a.skill_groups.join(",")).collect();
    // A request for help: how long ago, and the agent's note.
    let help: Vec<String> = list
        .iter()
        .map(|a| {
            a.help.as_ref().map_or_else(String::new, |h| {
                let ago = clock(now.saturating_sub(h.at));
                match &h.text {
                    Some(t) => format!("{ago} {t}"),
                    None => ago,
                }
            })
        })
        .collect();
    let flags = list.iter().any(|a| a.help.is_some());
    let ids = || list.iter().map(|a| a.user_id.as_str());
    let names = || list.iter().filter_map(|a| a.name.as_deref());
    let session_ids = || {
        list.iter()
            .filter_map(|a| a.session_id.as_deref().or(a.offer_id.as_deref()))
    };
    let short_w = sym_w + widest_of(list.iter().map(|a| agent_status(a, false)));
    let long_w = sym_w + widest_of(list.iter().map(|a| agent_status(a, true)));
    // The marks: a request for help, then no tab open.
    let marks_w = 1 + usize::from(flags);
    let mut cols = vec![
        Col::new("", marks_w, marks_w, 0),
        Col::new("Agent", 5, widest(ids()).clamp(5, 16), 0),
        Col::new("Status", short_w.min(12), long_w, 0).longer_form(),
        Col::figures("For", widest(since.iter().map(String::as_str)), 0),
        Col::figures("Call", widest(talk.iter().map(String::as_str)), 2),
        Col::new("Session", 8, widest(session_ids()).min(16), 3),
        Col::new("Name", 16, widest(names()).min(16), 4),
        Col::new(
            "Groups",
            8,
            widest(groups.iter().map(String::as_str)).min(24),
            5,
        ),
    ];
    if flags {
        // Kept before the session and the call, its note grown first.
        let help_w = widest(help.iter().map(String::as_str));
        cols.push(Col::new("Help", help_w.min(10), help_w.min(32), 1).grow(0));
    }
    let selected = b
        .agent
        .as_deref()
        .and_then(|id| list.iter().position(|a| a.user_id == id));
    table(
        f,
        area,
        block,
        &cols,
        list.len(),
        selected,
        focused,
        theme,
        |r, c, w| {
            let Some(a) = list.get(r) else {
                return Span::raw("");
            };
            let lost = if a.connected {
                " "
            } else {
                theme.disconnected()
            };
            match c {
                0 if a.help.is_some() => {
                    Span::styled(format!("{}{lost}", theme.help_flag()), theme.alarm())
                }
                0 if !a.connected && flags => Span::styled(format!(" {lost}"), theme.error()),
                0 if !a.connected => Span::styled(lost, theme.error()),
                0 => Span::raw(" "),
                1 => Span::styled(
                    a.user_id.clone(),
                    if a.connected {
                        theme.bold()
                    } else {
                        theme.dim()
                    },
                ),
                2 => {
                    // One form for the whole column.
                    let text = agent_status(a, w >= long_w);
                    Span::styled(
                        format!("{} {text}", theme.status_symbol(Some(a.status))),
                        theme.status(Some(a.status)),
                    )
                }
                3 => Span::raw(since.get(r).cloned().unwrap_or_default()),
                4 => match calls.get(r).copied().flatten() {
                    Some(s) => Span::styled(
                        talk.get(r).cloned().unwrap_or_default(),
                        session_style(s, theme),
                    ),
                    None => Span::raw(""),
                },
                5 => match a.session_id.as_deref().or(a.offer_id.as_deref()) {
                    Some(id) => Span::raw(truncate_start(id, w, theme.ellipsis())),
                    None => Span::raw(""),
                },
                6 => Span::styled(a.name.clone().unwrap_or_default(), theme.dim()),
                7 => Span::styled(groups.get(r).cloned().unwrap_or_default(), theme.dim()),
                _ => match help.get(r).filter(|h| !h.is_empty()) {
                    Some(h) => Span::styled(h.clone(), theme.alarm()),
                    None => Span::raw(""),
                },
            }
        },
    );
}

// ---------------------------------------------------------------- queues

pub(super) fn queues_height(b: &Board, h: u16) -> u16 {
    let rows = if b.loaded {
        b.wall.groups.len().max(1)
    } else {
        1
    };
    let want = (rows as u16).saturating_add(3);
    want.min(h / 2).max(3.min(h))
}

pub(super) fn queues(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let list = &b.wall.groups;
    let waiting: u32 = list.iter().map(|g| g.waiting).sum();
    let title = if b.loaded && waiting > 0 {
        format!(" Queues ({waiting} waiting) ")
    } else {
        " Queues ".into()
    };
    let block = theme.panel(title, false);
    if !b.loaded {
        return loading(f, area, block, theme);
    }
    if list.is_empty() {
        return empty(f, area, block, "no skill groups", theme);
    }
    let now = state.now;
    let threshold = b.wall.kpis.threshold.saturating_mul(1000);
    let oldest: Vec<Option<u64>> = list
        .iter()
        .map(|g| {
            g.oldest_since
                .filter(|_| g.waiting > 0)
                .map(|t| now.saturating_sub(t))
        })
        .collect();
    let ids = list.iter().map(|g| g.skill_group_id.as_str());
    let names = list
        .iter()
        .map(|g| g.name.as_deref().unwrap_or(&g.skill_group_id));
    // Overflow and the maximum wait, when a group has them: sessions come in
    // from other groups (In), where this group's go after how long
    // (Overflow), how long one may wait (Max).
    let overflow: Vec<String> = list
        .iter()
        .map(|g| match (&g.overflow_to, g.overflow_after) {
            (Some(to), Some(after)) => {
                format!(
                    "{}{to} {}",
                    theme.goes_to(),
                    clock(after.saturating_mul(1000))
                )
            }
            _ => String::new(),
        })
        .collect();
    let max_wait: Vec<String> = list
        .iter()
        .map(|g| {
            g.max_wait
                .map_or_else(String::new, |s| clock(s.saturating_mul(1000)))
        })
        .collect();
    let mut cols = vec![
        (
            QueueCol::Group,
            Col::new("Group", widest(ids).clamp(5, 10), widest(names).min(24), 0),
        ),
        (QueueCol::Wait, Col::figures("Wait", 4, 0)),
        (QueueCol::Oldest, Col::figures("Oldest", 6, 0)),
        (QueueCol::Free, Col::figures("Free", 5, 1)),
    ];
    let overflow_w = widest(overflow.iter().map(String::as_str));
    if list
        .iter()
        .any(|g| g.overflow_in > 0 || g.overflow_to.is_some())
    {
        cols.push((QueueCol::In, Col::figures("In", 3, 2)));
        cols.push((
            QueueCol::Overflow,
            // Whole or not at all.
            Col::new("Overflow", overflow_w, overflow_w, 3),
        ));
    }
    if list.iter().any(|g| g.max_wait.is_some()) {
        cols.push((
            QueueCol::Max,
            Col::figures("Max", widest(max_wait.iter().map(String::as_str)), 4),
        ));
    }
    let kinds: Vec<QueueCol> = cols.iter().map(|(k, _)| *k).collect();
    let cols: Vec<Col> = cols.into_iter().map(|(_, c)| c).collect();
    table(
        f,
        area,
        block,
        &cols,
        list.len(),
        None,
        false,
        theme,
        |r, c, w| {
            let Some(g) = list.get(r) else {
                return Span::raw("");
            };
            let Some(kind) = kinds.get(c) else {
                return Span::raw("");
            };
            match kind {
                QueueCol::Group => match &g.name {
                    Some(n) if n.width() <= w => Span::raw(n.clone()),
                    _ => Span::raw(g.skill_group_id.clone()),
                },
                QueueCol::Wait if g.waiting > 0 => {
                    Span::styled(g.waiting.to_string(), theme.info().patch(theme.bold()))
                }
                QueueCol::Wait => Span::styled("0", theme.dim()),
                QueueCol::Oldest => match oldest.get(r).copied().flatten() {
                    Some(ms) => Span::styled(
                        clock(ms),
                        if ms > threshold {
                            theme.error()
                        } else {
                            theme.bold()
                        },
                    ),
                    None => Span::styled("-", theme.dim()),
                },
                QueueCol::Free => Span::styled(
                    format!("{}/{}", g.free, g.staffed),
                    if g.free == 0 && g.waiting > 0 {
                        theme.error()
                    } else {
                        Style::default()
                    },
                ),
                QueueCol::In if g.overflow_in > 0 => Span::styled(
                    format!("+{}", g.overflow_in),
                    theme.info().patch(theme.bold()),
                ),
                QueueCol::In => Span::raw(""),
                QueueCol::Overflow => {
                    Span::styled(overflow.get(r).cloned().unwrap_or_default(), theme.dim())
                }
                QueueCol::Max => {
                    Span::styled(max_wait.get(r).cloned().unwrap_or_default(), theme.dim())
                }
            }
        },
    );
}

/// The queues table's columns (some only when a group uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueueCol {
    Group,
    Wait,
    Oldest,
    Free,
    In,
    Overflow,
    Max,
}

// ---------------------------------------------------------------- sessions

pub(super) fn sessions(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let focused = b.pane == BoardPane::Sessions;
    let list = &b.wall.sessions;
    let queued = list
        .iter()
        .filter(|s| s.state == SessionState::Queued)
        .count();
    let title = if b.loaded && queued > 0 {
        format!(" Live sessions {} ({queued} queued) ", list.len())
    } else if b.loaded {
        format!(" Live sessions {} ", list.len())
    } else {
        " Live sessions ".into()
    };
    let block = theme.panel(title, focused);
    if !b.loaded {
        return loading(f, area, block, theme);
    }
    if list.is_empty() {
        return empty(f, area, block, "no live sessions", theme);
    }
    let now = state.now;
    let clocks: Vec<String> = list.iter().map(|s| session_clock(s, now)).collect();
    let kinds = list.iter().map(|s| theme.kind_label(s.kind));
    let agents = list.iter().map(|s| s.user_id.as_deref().unwrap_or("-"));
    let callers = list.iter().map(|s| s.caller.as_deref().unwrap_or("-"));
    // The state, with the queue priority of a session that has one.
    let states: Vec<String> = list
        .iter()
        .map(|s| {
            if s.priority > 0 {
                format!("{} P{}", s.state.as_str(), s.priority)
            } else {
                s.state.as_str().to_string()
            }
        })
        .collect();
    let state_w = 2 + widest(states.iter().map(String::as_str));
    // The group, and where it overflowed to while it waited.
    let groups: Vec<String> = list
        .iter()
        .map(|s| {
            let g = s.skill_group_id.as_deref().unwrap_or("-");
            match &s.overflow_to {
                Some(to) => format!("{g}{}{to}", theme.goes_to()),
                None => g.to_string(),
            }
        })
        .collect();
    let group_w = widest(groups.iter().map(String::as_str)).min(20);
    let ids = list.iter().map(|s| s.session_id.as_str());
    // The caller gets more before the optional columns come in on a wide pane.
    let caller_min = if area.width >= 60 { 16 } else { 10 };
    let cols = [
        Col::new("", 1, 1, 0),
        Col::new("Type", 5, widest(kinds), 3),
        Col::new("Agent", 5, widest(agents).min(14), 1).grow(0),
        Col::new("Caller", caller_min, widest(callers).min(24), 0).grow(1),
        Col::new("State", state_w, state_w, 2),
        Col::figures("Time", widest(clocks.iter().map(String::as_str)), 0),
        Col::new("Session", 11, widest(ids).min(16), 5),
        Col::new("Group", group_w, group_w, 4),
    ];
    let selected = b
        .session
        .as_deref()
        .and_then(|id| list.iter().position(|s| s.session_id == id));
    table(
        f,
        area,
        block,
        &cols,
        list.len(),
        selected,
        focused,
        theme,
        |r, c, w| {
            let Some(s) = list.get(r) else {
                return Span::raw("");
            };
            match c {
                0 => match b.watch(&s.session_id) {
                    Some(_) => Span::styled(theme.watched(), theme.key()),
                    None => Span::raw(" "),
                },
                1 => Span::raw(theme.kind_label(s.kind)),
                2 => Span::raw(s.user_id.clone().unwrap_or_else(|| "-".into())),
                3 => Span::raw(s.caller.clone().unwrap_or_else(|| "-".into())),
                4 => Span::styled(
                    format!(
                        "{} {}",
                        session_symbol(s, theme),
                        states.get(r).map_or("", String::as_str)
                    ),
                    session_style(s, theme),
                ),
                5 => Span::raw(clocks.get(r).cloned().unwrap_or_default()),
                6 => Span::styled(
                    truncate_start(&s.session_id, w, theme.ellipsis()),
                    theme.dim(),
                ),
                _ => Span::styled(groups.get(r).cloned().unwrap_or_default(), theme.dim()),
            }
        },
    );
}
