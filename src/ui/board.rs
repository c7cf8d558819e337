//! The supervisor console's floor view (the wallboard): today's figures and
//! the last hour, the seats, the queues, the live sessions, and the sessions
//! monitored as text. Drawn instead of the workbench while the console shows
//! the floor; a call the supervisor took over is drawn by the workbench.
//!
//! Tables choose their columns by width: every column has a width it needs
//! and a width it would like, and the least important go first when a pane is
//! narrow, so that 80 columns show the essentials and wide screens show more.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, HighlightSpacing, Paragraph, Row, Sparkline, Table, TableState,
};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::status::{link_text, status_word};
use super::text::{clip, clock, truncate, truncate_start};
use super::theme::Theme;
use super::transcript::{self, SessionPane};
use crate::app::board::{Board, BoardPane, Watch};
use crate::app::keymap::Command;
use crate::app::state::{Phase, State};
use crate::protocol::{AgentStatus, BoardAgent, BoardSession, HistoryPoint, Kpis, SessionState};

/// Monitor panels are kept at least this wide; more than fit are paged.
const MIN_PANEL: u16 = 30;
/// How long an information line stays (as in the agent's status pane).
const INFO_MS: u64 = 30_000;
/// Sparklines narrower than this are left out.
const MIN_SPARK: u16 = 12;

/// The floor: the connection banner (when not online), today's figures,
/// the agents beside the queues and the live sessions, the monitor panels
/// (when any) at the bottom, a status line and the key hints.
pub fn draw(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let banner = super::banner(state, theme);
    let today_h = if area.height >= 36 { 6 } else { 4 };
    let [top, today_area, middle, status_area, footer] = Layout::vertical([
        Constraint::Length(banner.is_some() as u16),
        Constraint::Length(today_h),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(line) = banner {
        f.render_widget(
            Paragraph::new(clip(line.spans, top.width as usize, theme)),
            top,
        );
    }
    today(f, today_area, state, b, theme);
    let monitors_h = if b.watches.is_empty() {
        0
    } else {
        middle.height * 4 / 9
    };
    let [main, monitors_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(monitors_h)]).areas(middle);
    // Below 100 columns the seats take what their essentials need and the
    // sessions the rest; from 100 on, nearly half.
    let agents_w = if main.width < 100 {
        34 + main.width.saturating_sub(80) / 2
    } else {
        main.width * 45 / 100
    }
    .min(main.width);
    let [agents_area, right] =
        Layout::horizontal([Constraint::Length(agents_w), Constraint::Min(0)]).areas(main);
    let [queues_area, sessions_area] = Layout::vertical([
        Constraint::Length(queues_height(b, right.height)),
        Constraint::Min(0),
    ])
    .areas(right);
    agents(f, agents_area, state, b, theme);
    queues(f, queues_area, state, b, theme);
    sessions(f, sessions_area, state, b, theme);
    monitors(f, monitors_area, state, b, theme);
    f.render_widget(
        Paragraph::new(status_line(state, theme, status_area.width as usize)),
        status_area,
    );
    f.render_widget(
        Paragraph::new(hints(state, b, theme, footer.width as usize)),
        footer,
    );
}

/// The floor in a few words, for the one-line (compact) view.
pub fn summary(b: &Board, theme: &Theme) -> Vec<Span<'static>> {
    if !b.loaded {
        return vec![Span::styled(
            format!("{}loading the wallboard", theme.sep()),
            theme.dim(),
        )];
    }
    let waiting: u32 = b.wall.groups.iter().map(|g| g.waiting).sum();
    vec![
        Span::styled(
            format!("{}{waiting} waiting", theme.sep()),
            if waiting > 0 {
                theme.info()
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!("{}{}", theme.sep(), level_text(&b.wall.kpis))),
    ]
}

fn dots(theme: &Theme) -> &'static str {
    if theme.unicode {
        "…"
    } else {
        "..."
    }
}

fn loading(f: &mut Frame, area: Rect, block: Block<'static>, theme: &Theme) {
    f.render_widget(
        Paragraph::new(Span::styled(
            format!("loading the wallboard{}", dots(theme)),
            theme.dim(),
        ))
        .block(block),
        area,
    );
}

fn empty(f: &mut Frame, area: Rect, block: Block<'static>, text: &str, theme: &Theme) {
    f.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.dim())).block(block),
        area,
    );
}

// ---------------------------------------------------------------- today

/// `SL 91% (20s)`, or `SL -` before any outcome.
fn level_text(k: &Kpis) -> String {
    match k.service_level {
        Some(sl) => format!("SL {}% ({}s)", percent(sl), k.threshold),
        None => "SL -".into(),
    }
}

fn percent(p: f64) -> u64 {
    if p.is_finite() {
        p.round().clamp(0.0, 100.0) as u64
    } else {
        0
    }
}

fn ms_clock(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), clock)
}

/// A figure: its label dim, its value bold.
fn figure(label: &str, value: String, style: Style, theme: &Theme) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!("{label} "), theme.dim()),
        Span::styled(value, style),
    ]
}

fn join(items: Vec<Vec<Span<'static>>>) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.extend(item);
    }
    Line::from(spans)
}

fn today(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let block = theme.panel(" Today ".into(), false);
    if !b.loaded {
        return loading(f, area, block, theme);
    }
    let inner = block.inner(area);
    let k = &b.wall.kpis;
    let wide = inner.width >= 100;
    let bold = theme.bold();
    let mut volumes = vec![
        figure("Offered", k.offered.to_string(), bold, theme),
        figure("Answered", k.answered.to_string(), bold, theme),
        figure(
            "Abandoned",
            k.abandoned.to_string(),
            if k.abandoned > 0 { theme.info() } else { bold },
            theme,
        ),
    ];
    if wide {
        volumes.push(figure("Handled", k.handled.to_string(), bold, theme));
    }
    let level = match k.service_level {
        Some(sl) => format!("{}% ({}s)", percent(sl), k.threshold),
        None => "-".into(),
    };
    let speed = vec![
        figure("SL", level, theme.title(), theme),
        figure("ASA", ms_clock(k.asa_ms), bold, theme),
        figure("AHT", ms_clock(k.aht_ms), bold, theme),
        figure(
            if wide { "Occupancy" } else { "Occ" },
            k.occupancy
                .map_or_else(|| "-".into(), |o| format!("{}%", percent(o))),
            bold,
            theme,
        ),
    ];
    let mut lines = vec![join(volumes), join(speed)];
    if inner.height >= 3 {
        lines.push(now_line(state, b, theme));
    }
    if inner.height >= 4 {
        // What the service level counts (early abandons count neither way).
        let within = format!("in {}s", k.threshold);
        lines.push(join(vec![
            figure(
                &format!("Answered {within}"),
                k.answered_in_threshold.to_string(),
                bold,
                theme,
            ),
            figure(
                &format!("Abandoned {within}"),
                k.abandoned_in_threshold.to_string(),
                bold,
                theme,
            ),
        ]));
    }
    lines.truncate(inner.height as usize);
    let kpi_w = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    // The last hour, right of the figures, when there is room for it.
    let spark_x = kpi_w.saturating_add(3);
    let spark_w = inner.width.saturating_sub(spark_x);
    let block = if spark_w >= MIN_SPARK && !b.wall.history.is_empty() {
        let spark = Rect {
            x: inner.x + spark_x,
            width: spark_w,
            ..inner
        };
        let shown = history(f, spark, &b.wall.history, theme);
        let bar = if theme.unicode { "│" } else { "|" };
        for y in inner.top()..inner.bottom() {
            f.buffer_mut()
                .set_string(inner.x + kpi_w + 1, y, bar, theme.border());
        }
        block.title_top(Line::from(format!(" last {shown} min ")).right_aligned())
    } else {
        block
    };
    let width = inner.width as usize;
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| clip(l.spans, width, theme))
        .collect();
    f.render_widget(
        Paragraph::new(lines),
        Rect {
            width: kpi_w.min(inner.width),
            ..inner
        },
    );
    f.render_widget(block, area);
}

/// Right now: who waits, for how long, and the seats that could answer.
fn now_line(state: &State, b: &Board, theme: &Theme) -> Line<'static> {
    let waiting: u32 = b.wall.groups.iter().map(|g| g.waiting).sum();
    let oldest = b
        .wall
        .groups
        .iter()
        .filter(|g| g.waiting > 0)
        .filter_map(|g| g.oldest_since)
        .min();
    let longest = oldest.map(|t| state.now.saturating_sub(t));
    let over = longest.is_some_and(|l| l > b.wall.kpis.threshold.saturating_mul(1000));
    let staffed = b
        .wall
        .agents
        .iter()
        .filter(|a| a.connected && a.status != AgentStatus::Offline)
        .count();
    let free = b
        .wall
        .agents
        .iter()
        .filter(|a| a.connected && a.status == AgentStatus::Free)
        .count();
    join(vec![
        figure(
            "Waiting",
            waiting.to_string(),
            if waiting > 0 {
                theme.info().patch(theme.bold())
            } else {
                theme.bold()
            },
            theme,
        ),
        figure(
            "Longest",
            longest.map_or_else(|| "-".into(), clock),
            if over { theme.error() } else { theme.bold() },
            theme,
        ),
        figure(
            "Free",
            format!("{free}/{staffed}"),
            if free == 0 && waiting > 0 {
                theme.error()
            } else {
                theme.bold()
            },
            theme,
        ),
    ])
}

/// The queue and service-level sparklines of the last hour, one above the
/// other, each labelled with its latest value. Returns the minutes shown.
fn history(f: &mut Frame, area: Rect, points: &[HistoryPoint], theme: &Theme) -> usize {
    let last = points.last();
    let queue_label = format!("Queue {}", last.map_or(0, |p| p.queue));
    let level_label = match last.and_then(|p| p.service_level) {
        Some(sl) => format!("SL {}%", percent(sl)),
        None => "SL -".into(),
    };
    let label_w = queue_label.width().max(level_label.width()) as u16 + 1;
    let bars_w = area.width.saturating_sub(label_w) as usize;
    let shown = &points[points.len().saturating_sub(bars_w)..];
    // A short history is stretched across the room: columns per minute.
    let per = (bars_w / shown.len().max(1)).max(1);
    let rows = if area.height >= 2 {
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).split(area)
    } else {
        Layout::vertical([Constraint::Fill(1)]).split(area)
    };
    let series: [(String, Style, Vec<Option<u64>>, f64); 2] = [
        (
            queue_label,
            theme.spark_queue(),
            shown.iter().map(|p| Some(u64::from(p.queue))).collect(),
            f64::from(shown.iter().map(|p| p.queue).max().unwrap_or(0).max(1)),
        ),
        (
            level_label,
            theme.spark_level(),
            shown.iter().map(|p| p.service_level.map(percent)).collect(),
            100.0,
        ),
    ];
    for (row, (label, style, values, max)) in rows.iter().zip(series) {
        let [label_area, bars] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Min(0)]).areas(*row);
        f.render_widget(
            Paragraph::new(Span::styled(label, style.patch(theme.bold()))),
            label_area,
        );
        // Every value shows at least the lowest bar, so that an absent
        // minute (no bar at all) stands apart from a zero.
        let ticks = u64::from(bars.height) * 8;
        let data: Vec<Option<u64>> = values
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    let scaled = (v as f64 / max * (ticks.saturating_sub(1)) as f64).round();
                    (1 + scaled as u64).min(ticks)
                })
            })
            .flat_map(|v| std::iter::repeat_n(v, per))
            .collect();
        f.render_widget(
            Sparkline::default()
                .data(data)
                .max(ticks.max(1))
                .bar_set(theme.bars())
                .style(style),
            bars,
        );
    }
    shown.len()
}

// ---------------------------------------------------------------- tables

/// A table column: the widths it needs and would like, how soon it goes
/// when the pane is narrow (0: never; higher numbers go first), and how soon
/// it gets the room left over (lower numbers first).
struct Col {
    head: &'static str,
    min: usize,
    want: usize,
    drop: u8,
    grow: u8,
    /// Grows to `want` in one step or not at all (a longer form of its text).
    whole: bool,
    right: bool,
}

impl Col {
    fn new(head: &'static str, min: usize, want: usize, drop: u8) -> Col {
        Col {
            head,
            min: min.min(want),
            want,
            drop,
            grow: drop,
            whole: false,
            right: false,
        }
    }
    /// A column of figures: never cut, right-aligned.
    fn figures(head: &'static str, width: usize, drop: u8) -> Col {
        let width = width.max(head.width());
        Col {
            right: true,
            ..Col::new(head, width, width, drop)
        }
    }
    /// Takes its longer form last, and only when all of it fits.
    fn longer_form(mut self) -> Col {
        self.grow = u8::MAX;
        self.whole = true;
        self
    }
    /// When it gets room left over (by default as its `drop`).
    fn grow(mut self, order: u8) -> Col {
        self.grow = order;
        self
    }
}

/// The width of each column in `avail` columns (None: left out).
fn fit(cols: &[Col], avail: usize) -> Vec<Option<usize>> {
    let mut on = vec![true; cols.len()];
    let need = |on: &[bool]| -> usize {
        let shown: Vec<&Col> = cols
            .iter()
            .zip(on)
            .filter(|(_, o)| **o)
            .map(|(c, _)| c)
            .collect();
        shown.iter().map(|c| c.min).sum::<usize>() + shown.len().saturating_sub(1)
    };
    while need(&on) > avail {
        let worst = (0..cols.len())
            .filter(|&i| on[i] && cols[i].drop > 0)
            .max_by_key(|&i| (cols[i].drop, i));
        match worst {
            Some(i) => on[i] = false,
            None => break,
        }
    }
    let mut widths: Vec<Option<usize>> = cols
        .iter()
        .zip(&on)
        .map(|(c, o)| o.then_some(c.min))
        .collect();
    let mut extra = avail.saturating_sub(need(&on));
    let mut order: Vec<usize> = (0..cols.len()).filter(|&i| on[i]).collect();
    order.sort_by_key(|&i| (cols[i].grow, i));
    for i in order {
        if let Some(w) = widths[i].as_mut() {
            let more = cols[i].want.saturating_sub(*w);
            if cols[i].whole && more > extra {
                continue;
            }
            let add = more.min(extra);
            *w += add;
            extra -= add;
        }
    }
    widths
}

/// `text` cut or padded to exactly `width` columns.
fn fit_text(text: &str, width: usize, right: bool, theme: &Theme) -> String {
    let t = truncate(text, width, theme.ellipsis());
    let pad = " ".repeat(width.saturating_sub(t.width()));
    if right {
        format!("{pad}{t}")
    } else {
        format!("{t}{pad}")
    }
}

/// The widest of some texts (a column's natural width).
fn widest<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts
        .into_iter()
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

fn widest_of(texts: impl Iterator<Item = String>) -> usize {
    texts.map(|t| t.width()).max().unwrap_or(0)
}

/// A bordered table of `rows` rows whose cells come from `cell(row, column,
/// width)`; the selected row keeps the marker, and is reversed while the
/// pane has the focus. The table scrolls to keep it in view.
#[allow(clippy::too_many_arguments)]
fn table(
    f: &mut Frame,
    area: Rect,
    block: Block<'static>,
    cols: &[Col],
    rows: usize,
    selected: Option<usize>,
    focused: bool,
    theme: &Theme,
    cell: impl Fn(usize, usize, usize) -> Span<'static>,
) {
    let inner = block.inner(area);
    let marker_w = theme.marker().width();
    let widths = fit(cols, (inner.width as usize).saturating_sub(marker_w));
    let shown: Vec<(usize, usize)> = widths
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.map(|w| (i, w)))
        .collect();
    let body: Vec<Row> = (0..rows)
        .map(|r| {
            Row::new(shown.iter().map(|&(c, w)| {
                let sp = cell(r, c, w);
                Cell::from(Span::styled(
                    fit_text(&sp.content, w, cols[c].right, theme),
                    sp.style,
                ))
            }))
        })
        .collect();
    let constraints: Vec<Constraint> = shown
        .iter()
        .map(|&(_, w)| Constraint::Length(w as u16))
        .collect();
    let mut t = Table::new(body, constraints)
        .block(block)
        .column_spacing(1)
        .highlight_symbol(theme.marker())
        .highlight_spacing(HighlightSpacing::Always);
    if focused {
        t = t.row_highlight_style(theme.selected());
    }
    // A header when every row fits under it, or at least three do.
    if inner.height >= 4 || usize::from(inner.height) > rows {
        t = t.header(
            Row::new(
                shown
                    .iter()
                    .map(|&(c, w)| Cell::from(fit_text(cols[c].head, w, cols[c].right, theme))),
            )
            .style(theme.dim()),
        );
    }
    let mut ts = TableState::default().with_selected(selected);
    f.render_stateful_widget(t, area, &mut ts);
}

// ---------------------------------------------------------------- agents

/// An agent's status in words: a break shows its reason (`long`: with the
/// word rest too).
fn agent_status(a: &BoardAgent, long: bool) -> String {
    match (a.status, &a.rest_reason) {
        (AgentStatus::Rest, Some(r)) if long => format!("rest ({r})"),
        (AgentStatus::Rest, Some(r)) => r.clone(),
        (s, _) => s.as_str().to_string(),
    }
}

/// The session an agent is in (or that rings at the seat), if live.
fn agent_session<'a>(b: &'a Board, a: &BoardAgent) -> Option<&'a BoardSession> {
    a.session_id
        .as_deref()
        .or(a.offer_id.as_deref())
        .and_then(|id| b.live_session(id))
}

fn session_symbol(s: &BoardSession, theme: &Theme) -> &'static str {
    theme.phase_symbol(Phase::from_state(s.state))
}

fn session_style(s: &BoardSession, theme: &Theme) -> Style {
    match s.state {
        SessionState::Queued => theme.info(),
        st => theme.phase(Phase::from_state(st)),
    }
}

/// Talk time once answered, else the time since it started.
fn session_clock(s: &BoardSession, now: u64) -> String {
    clock(now.saturating_sub(s.accepted_at.unwrap_or(s.started_at)))
}

fn agents(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
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
    let ids = || list.iter().map(|a| a.user_id.as_str());
    let names = || list.iter().filter_map(|a| a.name.as_deref());
    let session_ids = || {
        list.iter()
            .filter_map(|a| a.session_id.as_deref().or(a.offer_id.as_deref()))
    };
    let short_w = sym_w + widest_of(list.iter().map(|a| agent_status(a, false)));
    let long_w = sym_w + widest_of(list.iter().map(|a| agent_status(a, true)));
    let cols = [
        Col::new("", 1, 1, 0),
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
            match c {
                0 if !a.connected => Span::styled(theme.disconnected(), theme.error()),
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
                _ => Span::styled(groups.get(r).cloned().unwrap_or_default(), theme.dim()),
            }
        },
    );
}

// ---------------------------------------------------------------- queues

fn queues_height(b: &Board, h: u16) -> u16 {
    let rows = if b.loaded {
        b.wall.groups.len().max(1)
    } else {
        1
    };
    let want = (rows as u16).saturating_add(3);
    want.min(h / 2).max(3.min(h))
}

fn queues(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
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
    let cols = [
        Col::new("Group", widest(ids).clamp(5, 10), widest(names).min(24), 0),
        Col::figures("Wait", 4, 0),
        Col::figures("Oldest", 6, 0),
        Col::figures("Free", 5, 1),
    ];
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
            match c {
                0 => match &g.name {
                    Some(n) if n.width() <= w => Span::raw(n.clone()),
                    _ => Span::raw(g.skill_group_id.clone()),
                },
                1 if g.waiting > 0 => {
                    Span::styled(g.waiting.to_string(), theme.info().patch(theme.bold()))
                }
                1 => Span::styled("0", theme.dim()),
                2 => match oldest.get(r).copied().flatten() {
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
                _ => Span::styled(
                    format!("{}/{}", g.free, g.staffed),
                    if g.free == 0 && g.waiting > 0 {
                        theme.error()
                    } else {
                        Style::default()
                    },
                ),
            }
        },
    );
}

// ---------------------------------------------------------------- sessions

fn sessions(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
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
    let state_w = 2 + widest(list.iter().map(|s| s.state.as_str()));
    let group_w = widest(
        list.iter()
            .map(|s| s.skill_group_id.as_deref().unwrap_or("-")),
    )
    .min(12);
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
                    format!("{} {}", session_symbol(s, theme), s.state.as_str()),
                    session_style(s, theme),
                ),
                5 => Span::raw(clocks.get(r).cloned().unwrap_or_default()),
                6 => Span::styled(
                    truncate_start(&s.session_id, w, theme.ellipsis()),
                    theme.dim(),
                ),
                _ => Span::styled(
                    s.skill_group_id.clone().unwrap_or_else(|| "-".into()),
                    theme.dim(),
                ),
            }
        },
    );
}

// ---------------------------------------------------------------- monitors

/// The monitor panels side by side; when more are open than fit (each at
/// least MIN_PANEL wide), the ones around the focused panel, with a count of
/// the others on the bottom border.
fn monitors(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let n = b.watches.len();
    if n == 0 || area.width == 0 || area.height == 0 {
        return;
    }
    let fits = usize::from((area.width / MIN_PANEL).max(1)).min(n);
    let start = b.watch.saturating_sub(fits - 1).min(n - fits);
    let rects = Layout::horizontal(vec![Constraint::Fill(1); fits]).split(area);
    for (j, r) in rects.iter().enumerate() {
        let i = start + j;
        let Some(w) = b.watches.get(i) else {
            continue;
        };
        let focused = b.pane == BoardPane::Monitors && i == b.watch;
        monitor(f, *r, state, b, w, focused, theme);
        let y = r.bottom().saturating_sub(1);
        let room = r.width.saturating_sub(4) as usize;
        let (left, right) = if theme.unicode {
            ("◂", "▸")
        } else {
            ("<", ">")
        };
        if j == 0 && start > 0 {
            let text = truncate(&format!(" {left} {start} more "), room, theme.ellipsis());
            f.buffer_mut().set_string(r.x + 2, y, text, theme.title());
        }
        let after = n - start - fits;
        if j + 1 == fits && after > 0 {
            let text = truncate(&format!(" {after} more {right} "), room, theme.ellipsis());
            let x = r.right().saturating_sub(2 + text.width() as u16);
            f.buffer_mut().set_string(x, y, text, theme.title());
        }
    }
}

fn monitor(
    f: &mut Frame,
    area: Rect,
    state: &State,
    b: &Board,
    w: &Watch,
    focused: bool,
    theme: &Theme,
) {
    let s = &w.session;
    let agent = b
        .live_session(&s.id)
        .and_then(|l| l.user_id.clone())
        .or_else(|| w.agent.clone())
        .unwrap_or_else(|| "-".into());
    let sep = theme.sep();
    let mut title = format!(" {}{sep}{agent}{sep}{} ", s.id, s.peer());
    if s.scroll > 0 {
        title = format!(
            "{title}({} back; {} follows) ",
            s.scroll,
            state.keymap.key_label(Command::Follow)
        );
    }
    let title = truncate(
        &title,
        area.width.saturating_sub(2) as usize,
        theme.ellipsis(),
    );
    let mut notes = Vec::new();
    if let Some(why) = &w.ended {
        notes.push(Line::from(vec![
            Span::styled(
                format!("{} {why}", theme.phase_symbol(Phase::Ended)),
                theme.bold(),
            ),
            Span::styled(
                format!("{sep}{} closes", state.keymap.key_label(Command::Monitor)),
                theme.dim(),
            ),
        ]));
    } else if !w.confirmed {
        notes.push(Line::from(Span::styled(
            format!("connecting{}", dots(theme)),
            theme.info(),
        )));
    } else if w.audio {
        // The audio monitor: how the sound is doing, in the panel it is for.
        let sound = match state.audio.calls.get(&s.id) {
            Some(call) => super::status::call_audio_text(state, call).0,
            None => "audio is off in this console".into(),
        };
        notes.push(Line::from(vec![
            Span::styled("listening", theme.bold()),
            Span::styled(format!("{sep}{sound}"), theme.info()),
        ]));
    }
    let width = area.width.saturating_sub(2) as usize;
    let notes = notes
        .into_iter()
        .map(|l| clip(l.spans, width, theme))
        .collect();
    transcript::draw_session(
        f,
        area,
        s,
        SessionPane {
            title,
            focused,
            notes,
            seat: &agent,
        },
        theme,
    );
}

// ---------------------------------------------------------------- lines

/// The session the supervisor's commands are about (as the reducer picks it).
fn target(b: &Board) -> Option<&str> {
    match b.pane {
        BoardPane::Monitors => b.watches.get(b.watch).map(|w| w.session.id.as_str()),
        BoardPane::Sessions => b.session.as_deref(),
        BoardPane::Agents => b
            .selected_agent()
            .and_then(|a| a.session_id.as_deref().or(a.offer_id.as_deref())),
    }
}

fn hints(state: &State, b: &Board, theme: &Theme, width: usize) -> Line<'static> {
    let watched = target(b).and_then(|id| b.watch(id));
    let mut cmds: Vec<(Command, &str)> = vec![(
        Command::Monitor,
        if watched.is_some() {
            "stop monitor"
        } else {
            "monitor"
        },
    )];
    match watched {
        Some(w) if w.ended.is_some() => {}
        Some(w) if w.audio => cmds.push((Command::Listen, "text only")),
        _ => cmds.push((Command::Listen, "listen")),
    }
    if watched.is_some_and(|w| w.ended.is_none()) {
        cmds.push((Command::Intercept, "intercept"));
    }
    cmds.push((Command::Focus, "focus"));
    if !state.sessions.is_empty() {
        cmds.push((Command::View, "my call"));
    }
    cmds.push((Command::Status, "status"));
    super::hint_line(
        &state.keymap,
        cmds,
        &[(Command::Help, "help"), (Command::Quit, "quit")],
        Vec::new(),
        width,
        theme,
    )
}

/// The latest information line, else the newest error; the supervisor's
/// own status and the link on the right (alone when there is no message).
fn status_line(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let message = match &state.info {
        Some(i) if state.now.saturating_sub(i.at) < INFO_MS => {
            Some(Span::styled(i.text.clone(), theme.info()))
        }
        _ => state
            .errors
            .back()
            .map(|e| Span::styled(format!("{}{}", theme.warn(), e.text), theme.error())),
    };
    let sep = theme.sep();
    let who = if state.me.role.is_empty() {
        state.me.user_id.clone()
    } else {
        format!("{} ({})", state.me.user_id, state.me.role)
    };
    let mut me = vec![Span::styled(who, theme.bold())];
    if state.status.is_some() {
        me.push(Span::raw(sep.to_string()));
        me.push(Span::styled(
            format!(
                "{} {}",
                theme.status_symbol(state.status),
                status_word(state)
            ),
            theme.status(state.status),
        ));
    }
    me.push(Span::styled(
        format!("{sep}{}", link_text(state)),
        if state.is_online() {
            theme.dim()
        } else {
            theme.error()
        },
    ));
    let me_w: usize = me.iter().map(Span::width).sum();
    let Some(message) = message else {
        return clip(me, width, theme);
    };
    let msg_w = message.width();
    if msg_w + 2 + me_w <= width {
        let mut spans = vec![message, Span::raw(" ".repeat(width - msg_w - me_w))];
        spans.extend(me);
        Line::from(spans)
    } else {
        clip(vec![message], width, theme)
    }
}
