//! The console's skill groups dialog, built as board_screens.rs builds the
//! floor (and with its helpers), snapshotted at 80x24 and 120x40: dave
//! (sales) selected, G, support checked too and the cursor on sales.

use crate::board_screens::*;
use crate::screens::text;
use ccdesk::app::state::{Dialog, State};
use crossterm::event::KeyCode;

/// G on dave, Space checks support, Down moves to sales.
fn editing() -> State {
    let mut s = floor();
    assert_eq!(board(&s).agent.as_deref(), Some("dave"));
    let at = NOW;
    for fx in [
        chr(&mut s, 'G', at),
        chr(&mut s, ' ', at),
        press(&mut s, KeyCode::Down, at),
    ] {
        assert!(fx.is_empty(), "nothing is sent before Enter: {fx:?}");
    }
    s
}

#[test]
fn board_skill_groups_dialog() {
    let s = editing();
    assert!(matches!(
        &s.dialog,
        Some(Dialog::SkillGroups { user_id, checked, cursor: 1, .. })
            if user_id == "dave" && *checked == [true, true]
    ));
    for buf in snapshot(
        "skill_groups_dialog",
        "G on dave: support checked, the cursor on sales",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("Skill groups of dave (Dave Dalton)"), "{t}");
        assert!(t.contains("[✓] support  Customer support"), "{t}");
        assert!(t.contains("▶ [✓] sales"), "{t}");
        assert!(
            t.contains("up/down, space checks, enter saves, esc cancels"),
            "{t}"
        );
    }
}
