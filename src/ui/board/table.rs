//! Tables that choose their columns by width: every column has a width it
//! needs and one it would like, and the least important go first when a
//! pane is narrow.

use super::*;

/// A table column: the widths it needs and would like, how soon it goes
/// when the pane is narrow (0: never; higher numbers go first), and how soon
/// it gets the room left over (lower numbers first).
pub(super) struct Col {
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
    pub(super) fn new(head: &'static str, min: usize, want: usize, drop: u8) -> Col {
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
    pub(super) fn figures(head: &'static str, width: usize, drop: u8) -> Col {
        let width = width.max(head.width());
        Col {
            right: true,
            ..Col::new(head, width, width, drop)
        }
    }
    /// Takes its longer form last, and only when all of it fits.
    pub(super) fn longer_form(mut self) -> Col {
        self.grow = u8::MAX;
        self.whole = true;
        self
    }
    /// When it gets room left over (by default as its `drop`).
    pub(super) fn grow(mut self, order: u8) -> Col {
        self.grow = order;
        self
    }
}

/// The width of each column in `avail` columns (None: left out).
pub(super) fn fit(cols: &[Col], avail: usize) -> Vec<Option<usize>> {
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
pub(super) fn fit_text(text: &str, width: usize, right: bool, theme: &Theme) -> String {
    let t = truncate(text, width, theme.ellipsis());
    let pad = " ".repeat(width.saturating_sub(t.width()));
    if right {
        format!("{pad}{t}")
    } else {
        format!("{t}{pad}")
    }
}

/// The widest of some texts (a column's natural width).
pub(super) fn widest<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts
        .into_iter()
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(0)
}

pub(super) fn widest_of(texts: impl Iterator<Item = String>) -> usize {
    texts.map(|t| t.width()).max().unwrap_or(0)
}

/// A bordered table of `rows` rows whose cells come from `cell(row, column,
/// width)`; the selected row keeps the marker, and is reversed while the
/// pane has the focus. The table scrolls to keep it in view.
#[allow(clippy::too_many_arguments)]
pub(super) fn table(
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
