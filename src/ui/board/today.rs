//! The floor's first panel: today's figures, what is happening now, and
//! the last hour's history.

use super::*;

/// `SL 91% (20s)`, or `SL -` before any outcome.
pub(super) fn level_text(k: &Kpis) -> String {
    match k.service_level {
        Some(sl) => format!("SL {}% ({}s)", percent(sl), k.threshold),
        None => "SL -".into(),
    }
}

pub(super) fn percent(p: f64) -> u64 {
    if p.is_finite() {
        p.round().clamp(0.0, 100.0) as u64
    } else {
        0
    }
}

pub(super) fn ms_clock(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), clock)
}

/// A figure: its label dim, its value bold.
pub(super) fn figure(
    label: &str,
    value: String,
    style: Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!("{label} "), theme.dim()),
        Span::styled(value, style),
    ]
}

pub(super) fn join(items: Vec<Vec<Span<'static>>>) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.extend(item);
    }
    Line::from(spans)
}

pub(super) fn today(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let block = match help_count(b, theme).filter(|_| b.loaded) {
        // Agents waiting for a supervisor: said in the header, unmissable.
        Some(text) => theme
            .panel(" Today ".into(), false)
            .title(Span::styled(format!(" {text} "), theme.alarm())),
        None => theme.panel(" Today ".into(), false),
    };
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
pub(super) fn now_line(state: &State, b: &Board, theme: &Theme) -> Line<'static> {
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
pub(super) fn history(f: &mut Frame, area: Rect, points: &[HistoryPoint], theme: &Theme) -> usize {
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
