//! The console's report view: today's figures by group and by agent
//! (`Supervisor.report`), two tables with the wallboard's definitions.

use super::*;
use crate::app::board::Report;
use crate::protocol::ReportRow;

/// The report: the connection banner (when not online), the groups above
/// the agents, a status line and the key hints.
pub fn draw(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let banner = super::super::banner(state, theme);
    let r = &b.report;
    let groups_h = r
        .groups
        .as_ref()
        .map_or(3, |g| (g.len().max(1) as u16).saturating_add(3));
    let [top, groups_area, agents_area, status_area, footer] = Layout::vertical([
        Constraint::Length(banner.is_some() as u16),
        Constraint::Length(groups_h.min(area.height / 3).max(3)),
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
    let asked = if r.pending > 0 && (r.agents.is_some() || r.groups.is_some()) {
        format!(" refreshing{} ", dots(theme))
    } else if r.asked_at > 0 {
        format!(
            " as of {} ago ",
            clock(state.now.saturating_sub(r.asked_at))
        )
    } else {
        String::new()
    };
    let block = theme
        .panel(" Today by group ".into(), false)
        .title_top(Line::from(asked).right_aligned());
    figures(
        f,
        groups_area,
        block,
        "Group",
        r.groups.as_deref(),
        None,
        r,
        theme,
    );
    let block = theme.panel(" Today by agent ".into(), true);
    let cursor = Some(r.cursor);
    figures(
        f,
        agents_area,
        block,
        "Agent",
        r.agents.as_deref(),
        cursor,
        r,
        theme,
    );
    f.render_widget(
        Paragraph::new(status_line(state, theme, status_area.width as usize)),
        status_area,
    );
    let cmds = vec![(Command::Report, "refresh"), (Command::View, "floor")];
    f.render_widget(
        Paragraph::new(super::super::hint_line(
            &state.keymap,
            cmds,
            &[
                (Command::Status, "status"),
                (Command::Help, "help"),
                (Command::Quit, "quit"),
            ],
            Vec::new(),
            footer.width as usize,
            theme,
        )),
        footer,
    );
}

/// The wrap-up codes of a row, most used first: `Resolved 3, Escalated 1`.
fn codes(row: &ReportRow) -> String {
    let mut c: Vec<(&String, &u64)> = row.wrap_up_codes.iter().collect();
    c.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    c.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One table of figures, or why there is none.
#[allow(clippy::too_many_arguments)]
fn figures(
    f: &mut Frame,
    area: Rect,
    block: Block<'static>,
    key: &'static str,
    rows: Option<&[ReportRow]>,
    selected: Option<usize>,
    r: &Report,
    theme: &Theme,
) {
    let Some(rows) = rows else {
        let text = match &r.error {
            Some(e) => format!("{}{e}", theme.warn()),
            None => format!("asking the server{}", dots(theme)),
        };
        return empty(f, area, block, &text, theme);
    };
    if rows.is_empty() {
        return empty(f, area, block, "no sessions ended today", theme);
    }
    let sl: Vec<String> = rows
        .iter()
        .map(|x| {
            x.service_level
                .map_or("-".into(), |p| format!("{}%", percent(p)))
        })
        .collect();
    let asa: Vec<String> = rows.iter().map(|x| ms_clock(x.asa_ms)).collect();
    let aht: Vec<String> = rows.iter().map(|x| ms_clock(x.aht_ms)).collect();
    let wrap: Vec<String> = rows.iter().map(codes).collect();
    let keys = rows.iter().map(|x| x.key.as_str());
    let texts = |v: &[String]| widest(v.iter().map(String::as_str));
    let cols = [
        Col::new(key, 5, widest(keys).clamp(5, 24), 0).grow(0),
        Col::figures("Offered", 7, 0),
        Col::figures("Answered", 8, 0),
        Col::figures("Abandoned", 9, 1),
        Col::figures("SL", texts(&sl), 0),
        Col::figures("ASA", texts(&asa), 2),
        Col::figures("AHT", texts(&aht), 0),
        Col::figures("Transfers", 9, 3),
        Col::new("Wrap-up codes", 13, texts(&wrap).max(13), 4),
    ];
    table(
        f,
        area,
        block,
        &cols,
        rows.len(),
        selected.map(|s| s.min(rows.len() - 1)),
        selected.is_some(),
        theme,
        |i, c, _| {
            let Some(x) = rows.get(i) else {
                return Span::raw("");
            };
            let at = |v: &[String]| v.get(i).cloned().unwrap_or_default();
            match c {
                0 => Span::styled(x.key.clone(), theme.bold()),
                1 => Span::raw(x.offered.to_string()),
                2 => Span::raw(x.answered.to_string()),
                3 if x.abandoned > 0 => Span::styled(x.abandoned.to_string(), theme.info()),
                3 => Span::raw("0"),
                4 => Span::styled(at(&sl), theme.title()),
                5 => Span::raw(at(&asa)),
                6 => Span::raw(at(&aht)),
                7 => Span::raw(x.transfers.to_string()),
                _ => Span::styled(at(&wrap), theme.dim()),
            }
        },
    );
}
