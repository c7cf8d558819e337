//! The reducer's view modes and settings: compact and hidden views, the
//! call bar, ringtone and notifications, help, and where the call audio
//! goes (`Agent.setServerType`).

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, ok, req, state};
use crate::app::state::{Dialog, SettingChoice, ViewMode};
use crate::protocol::Event;

const T0: u64 = 1_700_000_000_000;

fn ev(e: Event) -> Action {
    Action::Server(e)
}

#[test]
fn view_modes_and_settings_toggle() {
    let mut s = state();
    reduce(&mut s, key('z'), T0);
    assert_eq!(s.mode, ViewMode::Compact);
    reduce(&mut s, key('z'), T0);
    assert_eq!(s.mode, ViewMode::Workbench);
    reduce(&mut s, key('H'), T0);
    assert_eq!(s.mode, ViewMode::Hidden);
    reduce(&mut s, key('H'), T0);
    assert_eq!(s.mode, ViewMode::Workbench);
    reduce(&mut s, key('b'), T0);
    assert!(!s.settings.toolbar);
    reduce(&mut s, key(','), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(s.settings.disable_ringtone);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, key(' '), T0);
    assert!(s.settings.disable_notification);
    reduce(&mut s, key('?'), T0);
    assert!(
        matches!(s.dialog, Some(Dialog::Settings { .. })),
        "? types into the settings menu, not help"
    );
    reduce(&mut s, code(KeyCode::Esc), T0);
    reduce(&mut s, key('?'), T0);
    assert_eq!(s.dialog, Some(Dialog::Help { scroll: 0 }));
    reduce(&mut s, key('?'), T0);
    assert_eq!(s.dialog, None);
}

#[test]
fn the_call_audio_is_chosen_in_the_settings_and_the_server_says_where_it_goes() {
    let mut s = state();
    let devices = |t: &str, desk: bool| crate::protocol::SeatDevices {
        server_type: t.into(),
        desk_phone: desk,
        mobile: false,
    };
    // A desk phone registers: the server says so.
    reduce(
        &mut s,
        ev(Event::SeatChanged(devices("staffSeat", true))),
        T0,
    );
    assert_eq!(s.me.seat, Some(devices("staffSeat", true)));
    // Settings, the last item, enter: the choice, on where it goes now.
    reduce(&mut s, key(','), T0);
    for _ in 0..SettingChoice::ALL.len() - 1 {
        reduce(&mut s, code(KeyCode::Down), T0);
    }
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert_eq!(s.dialog, Some(Dialog::SeatType { cursor: 0 }));
    // Down to the desk phone, enter: the request.
    reduce(&mut s, code(KeyCode::Down), T0);
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(
        (method, params),
        (
            "Agent.setServerType",
            json!({"serverType": "staffExtensionSeat"})
        )
    );
    assert_eq!(s.dialog, None);
    ok(&mut s, id, None);
    reduce(
        &mut s,
        ev(Event::SeatChanged(devices("staffExtensionSeat", true))),
        T0,
    );
    assert_eq!(
        s.me.seat.as_ref().map(|d| d.server_type.as_str()),
        Some("staffExtensionSeat")
    );
}
