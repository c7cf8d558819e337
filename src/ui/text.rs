//! Small text helpers: durations, wrapping, truncation (by display width).

use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::theme::Theme;

/// `m:ss`, or `h:mm:ss` from an hour on.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Minutes, for time in status: `<1m`, `12m`, `2h05m`.
pub fn minutes(ms: u64) -> String {
    let m = ms / 60_000;
    if m == 0 {
        "<1m".into()
    } else if m < 60 {
        format!("{m}m")
    } else {
        format!("{}h{:02}m", m / 60, m % 60)
    }
}

/// Age of a session for the list: `45s`, `12m`, `3h`.
pub fn age(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h", s / 3600)
    }
}

/// Cut `s` to at most `width` columns, ending with `ell` (one column) when cut.
pub fn truncate(s: &str, width: usize, ell: &str) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push_str(ell);
    out
}

/// Cut `s` to at most `width` columns keeping its end, starting with `ell`
/// (one column) when cut: for ids whose tail tells them apart.
pub fn truncate_start(s: &str, width: usize, ell: &str) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    format!("{ell}{}", tail(s, width - 1))
}

/// The end of `s` that fits in `width` columns (for input lines).
pub fn tail(s: &str, width: usize) -> &str {
    let mut w = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let cw = c.width().unwrap_or(0);
        if w + cw > width {
            break;
        }
        w += cw;
        start = i;
    }
    &s[start..]
}

/// Word-wrap `s` to `width` columns; words longer than a line are split.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0;
    for word in s.split_whitespace() {
        let ww = word.width();
        if w > 0 && w + 1 + ww > width {
            lines.push(std::mem::take(&mut line));
            w = 0;
        }
        if ww > width {
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width {
                    lines.push(std::mem::take(&mut line));
                    w = 0;
                }
                line.push(c);
                w += cw;
            }
            continue;
        }
        if w > 0 {
            line.push(' ');
            w += 1;
        }
        line.push_str(word);
        w += ww;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Keep a line within `width` columns (the last span is cut).
pub fn clip(spans: Vec<Span<'static>>, width: usize, theme: &Theme) -> Line<'static> {
    let mut used = 0;
    let mut out = Vec::new();
    for sp in spans {
        let w = unicode_width::UnicodeWidthStr::width(sp.content.as_ref());
        if used + w <= width {
            used += w;
            out.push(sp);
        } else {
            let rest = width.saturating_sub(used);
            if rest > 0 {
                out.push(Span::styled(
                    truncate(&sp.content, rest, theme.ellipsis()),
                    sp.style,
                ));
            }
            break;
        }
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(61_500), "1:01");
        assert_eq!(clock(3_661_000), "1:01:01");
        assert_eq!(minutes(59_999), "<1m");
        assert_eq!(minutes(125 * 60_000), "2h05m");
        assert_eq!(age(59_000), "59s");
    }

    #[test]
    fn wrapping_and_truncation_respect_width() {
        assert_eq!(
            wrap("hello there general", 11),
            vec!["hello there", "general"]
        );
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(truncate("abcdef", 4, "…"), "abc…");
        assert_eq!(truncate("你好世界", 5, "~"), "你好~");
        assert_eq!(truncate_start("s-k9x2m-41", 6, "…"), "…2m-41");
        assert_eq!(truncate_start("s-1", 6, "…"), "s-1");
        for l in wrap("你好世界 你好世界你好世界", 5) {
            assert!(l.width() <= 5, "{l}");
        }
    }
}
