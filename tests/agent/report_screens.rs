//! The console's report view, built as board_screens.rs builds the floor
//! (and with its helpers), snapshotted at 80x24 and 120x40: today by group
//! and by agent, and a server that keeps no records.

use crate::board_screens::*;
use crate::screens::text;
use ccdesk::app::board::BoardView;
use ccdesk::app::state::State;
use ccdesk::app::{Action, Effect};
use ccdesk::protocol::ProtoError;
use serde_json::{json, Value};

/// A row: key, offered, answered, abandoned, service level (percent; <0:
/// none), ASA and AHT (s), transfers, wrap-up codes.
#[rustfmt::skip]
type Row = (&'static str, u64, u64, u64, f64, u64, u64, u64, &'static [(&'static str, u64)]);

#[rustfmt::skip]
const AGENTS: [Row; 9] = [
    ("alice", 31, 31, 0, 93.5, 9, 262, 2, &[("Resolved", 24), ("Escalated", 5), ("Callback needed", 2)]),
    ("bob", 27, 27, 0, 88.9, 12, 301, 4, &[("Resolved", 20), ("Escalated", 7)]),
    ("carol", 22, 22, 0, 100.0, 6, 198, 0, &[("Resolved", 22)]),
    ("dave", 18, 18, 0, 83.3, 14, 355, 1, &[("Resolved", 15), ("Callback needed", 3)]),
    ("grace", 25, 25, 0, 92.0, 8, 240, 3, &[("Resolved", 19), ("Escalated", 6)]),
    ("heidi", 19, 19, 0, 78.9, 17, 287, 2, &[("Resolved", 16), ("Escalated", 3)]),
    ("judy", 24, 24, 0, 87.5, 11, 310, 1, &[("Resolved", 21), ("Escalated", 3)]),
    ("mallory", 16, 16, 0, 93.8, 7, 221, 0, &[("Resolved", 16)]),
    ("peggy", 9, 9, 0, -1.0, 0, 175, 0, &[]),
];

#[rustfmt::skip]
const GROUPS: [Row; 2] = [
    ("support", 172, 151, 13, 84.1, 14, 276, 11, &[("Resolved", 118), ("Escalated", 24), ("Callback needed", 5)]),
    ("sales", 64, 60, 4, 86.7, 10, 243, 2, &[("Resolved", 51), ("Callback needed", 4)]),
];

fn rows(rows: &[Row]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(
            |&(key, offered, answered, abandoned, sl, asa, aht, transfers, codes)| {
                let mut r = json!({
                    "key": key, "offered": offered, "answered": answered, "abandoned": abandoned,
                    "ahtMs": aht * SECOND, "transfers": transfers,
                });
                if sl >= 0.0 {
                    r["serviceLevel"] = json!(sl);
                    r["asaMs"] = json!(asa * SECOND);
                }
                let codes: serde_json::Map<String, Value> = codes
                    .iter()
                    .map(|(c, n)| (c.to_string(), json!(n)))
                    .collect();
                if !codes.is_empty() {
                    r["wrapUpCodes"] = Value::Object(codes);
                }
                r
            },
        )
        .collect();
    json!({ "since": NOW - 9 * 60 * MINUTE, "rows": rows })
}

/// The two requests of the report key: (by agent, by group).
fn asked(fx: &[Effect]) -> (u64, u64) {
    let ids: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Request { id, method, .. } if *method == "Supervisor.report" => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2, "{fx:?}");
    (ids[0], ids[1])
}

/// `r` on the floor, both tables answered 5 s ago, the cursor on carol.
fn report() -> State {
    let mut s = floor();
    let at = NOW + SECOND;
    let (agents, groups) = asked(&chr(&mut s, 'r', at));
    answer_ok(&mut s, agents, Some(rows(&AGENTS)), at);
    answer_ok(&mut s, groups, Some(rows(&GROUPS)), at);
    for _ in 0..2 {
        press(&mut s, crossterm::event::KeyCode::Down, at);
    }
    tick(&mut s, at + 5 * SECOND);
    s
}

/// A server that keeps no records.
fn no_records() -> State {
    let mut s = floor();
    let at = NOW + SECOND;
    let (agents, groups) = asked(&chr(&mut s, 'r', at));
    for id in [agents, groups] {
        act(
            &mut s,
            Action::Response {
                id,
                result: Err(ProtoError::invalid_state("the server keeps no records")),
            },
            at,
        );
    }
    tick(&mut s, at + SECOND);
    s
}

#[test]
fn the_report_shows_today_by_group_and_by_agent() {
    let s = report();
    assert_eq!(board(&s).view, BoardView::Report);
    for buf in snapshot(
        "report",
        "r: today by group and by agent, answered 5 s ago, the cursor on carol",
        &s,
    ) {
        let t = text(&buf);
        for needle in [
            "Today by group",
            "Today by agent",
            "as of 0:05 ago",
            "support",
            "84%",
            "4:36",
            "r refresh  g floor",
        ] {
            assert!(t.contains(needle), "{needle:?} in\n{t}");
        }
        let y = row_in(&buf, "Today by agent", "carol");
        assert!(reversed(&buf, "Today by agent", y), "carol's row:\n{t}");
    }
    // Wide enough, the wrap-up codes, most used first.
    let t = text(&crate::screens::render(&s, 160, 40));
    assert!(
        t.contains("Resolved 24, Escalated 5, Callback needed 2"),
        "{t}"
    );
}

#[test]
fn a_server_without_records_says_so_in_the_report() {
    for buf in snapshot(
        "report_no_records",
        "r on a server that keeps no records",
        &no_records(),
    ) {
        let t = text(&buf);
        assert!(
            t.contains("Supervisor.report: the server keeps no records"),
            "{t}"
        );
    }
}

/// The report drawn at sizes around the layout's thresholds, down to 0x0
/// (below 80x24 `draw` shows the compact line, so the view is also drawn
/// directly).
#[test]
fn the_report_never_panics_at_any_size() {
    let theme = ccdesk::ui::theme::Theme::new(Default::default());
    for s in [report(), no_records()] {
        for w in [0, 1, 20, 40, 79, 80, 120, 300] {
            for h in [0, 1, 3, 5, 23, 24, 40, 100] {
                let r = std::panic::catch_unwind(|| crate::screens::render(&s, w, h));
                assert!(r.is_ok(), "the report panicked at {w}x{h}");
                let r = std::panic::catch_unwind(|| {
                    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h))
                        .expect("test terminal");
                    t.draw(|f| {
                        let area = f.area();
                        ccdesk::ui::board::report::draw(f, area, &s, board(&s), &theme)
                    })
                    .expect("draw");
                });
                assert!(r.is_ok(), "the report view panicked at {w}x{h}");
            }
        }
    }
}
