//! Several chats at once on screen, built as scenes.rs builds the others
//! and snapshotted by screens.rs at 80x24 and 120x40: an agent in three
//! chats, two of them with unread messages, writing in the third while a
//! fourth rings.

use crate::scenes::*;
use crate::screens::{find, queue_row, snapshot, text};
use ccdesk::app::state::State;
use ccdesk::protocol::{CallType, ChatFrom, Event};
use crossterm::event::KeyCode;
use ratatui::style::Modifier;

/// When the first chat rings.
const FROM: u64 = T0 + 50 * MINUTE;

/// A chat offered at `at` and accepted with the accept key.
fn take(s: &mut State, id: &str, nickname: &str, at: u64) {
    server(s, Event::CallIn(offer(id, CallType::Im, nickname)), at);
    let fx = chr(s, 'a', at + 2 * SECOND);
    answer_ok(s, request_id(&fx), None, at + 2 * SECOND);
    accessed(s, id, at + 2 * SECOND);
}

/// alice in three chats: Mia's two new lines and Noor's one arrived while
/// she was in Ola's, where she is writing; then Pia's chat rings.
pub(crate) fn three_chats() -> State {
    let mut s = logged_in();
    take(&mut s, "s-6001", "Mia Park", FROM);
    server(
        &mut s,
        chat_message(
            "s-6001",
            ChatFrom::Client,
            "Hi, can I change my delivery address?",
            FROM + 5 * SECOND,
        ),
        FROM + 5 * SECOND,
    );
    server(
        &mut s,
        chat_message(
            "s-6001",
            ChatFrom::Seat,
            "Of course: what is the order number?",
            FROM + 20 * SECOND,
        ),
        FROM + 20 * SECOND,
    );
    take(&mut s, "s-6002", "Noor Aziz", FROM + 40 * SECOND);
    take(&mut s, "s-6003", "Ola Berg", FROM + 70 * SECOND);
    let lines = [
        (
            "s-6003",
            ChatFrom::Client,
            75,
            "My invoice shows the wrong VAT number.",
        ),
        (
            "s-6002",
            ChatFrom::Client,
            80,
            "Is the shop open on Sunday?",
        ),
        (
            "s-6003",
            ChatFrom::Seat,
            90,
            "I can correct that. Which number should it show?",
        ),
        ("s-6001", ChatFrom::Client, 95, "It is 58-2231-07."),
        ("s-6003", ChatFrom::Client, 100, "DE 811 907 980"),
        (
            "s-6001",
            ChatFrom::Client,
            110,
            "The new address is Hauptstr. 5, Berlin.",
        ),
    ];
    for (id, from, after, line) in lines {
        let at = FROM + after * SECOND;
        server(&mut s, chat_message(id, from, line, at), at);
    }
    let at = FROM + 115 * SECOND;
    press(&mut s, KeyCode::Enter, at);
    type_text(&mut s, "Thanks, I will send a corrected", at);
    server(
        &mut s,
        Event::CallIn(offer("s-6004", CallType::Im, "Pia Lund")),
        FROM + 118 * SECOND,
    );
    tick(&mut s, FROM + 125 * SECOND);
    s
}

/// Every screen of this file, by name (for the no-panic sweep).
pub(crate) fn screens() -> Vec<(&'static str, State)> {
    vec![("chats_three", three_chats())]
}

#[test]
fn three_chats_with_unread_messages_and_a_fourth_ringing() {
    let s = three_chats();
    assert_eq!(s.selected.as_deref(), Some("s-6003"));
    assert!(s.typing, "still writing to Ola");
    for buf in snapshot(
        "chats_three",
        "alice in three chats, 2 and 1 unread, writing to Ola while Pia's chat rings",
        &s,
    ) {
        let t = text(&buf);
        // Unread counts in the session list, bold (not only coloured).
        queue_row(&buf, "Mia Park (2)");
        queue_row(&buf, "Noor Aziz (1)");
        assert!(!t.contains("Ola Berg ("), "Ola's chat is read: {t}");
        let (x, y) = find(&buf, "(2)").expect("Mia's count");
        assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
        assert!(t.contains("3 chats, 3 unread"), "{t}");
        assert!(t.contains("Sessions 4 (1 ringing)"), "{t}");
        assert!(t.contains("chat from Pia Lund: esc, then a accepts"), "{t}");
        assert!(t.contains("n next chat"), "{t}");
        // The draft is Ola's, still being written.
        assert!(t.contains("> Thanks, I will send a corrected"), "{t}");
    }
}
