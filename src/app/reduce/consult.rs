//! Consult (warm) transfer in the terminal: the consult key opens the
//! transfer dialog's list to pick whom to consult (`Call.consult`; the
//! customer holds); while the consult lasts the customer's session and its
//! consult leg (an internal call between the two agents) are linked, and
//! the consulting agent completes the transfer, makes it a conference,
//! cancels it, or swaps between the two sessions. Keys that do not apply
//! say why instead of asking the server.

use super::*;
use crate::app::board::BoardView;
use crate::protocol::ConsultPhase;

/// The consult keys: consult, complete transfer, conference, cancel, swap.
pub(super) fn command(state: &mut State, cmd: Command, now: u64, fx: &mut Vec<Effect>) {
    if state
        .board
        .as_ref()
        .is_some_and(|b| b.view == BoardView::Floor)
    {
        let view = state.keymap.key_label(Command::View);
        return info(
            state,
            now,
            format!(
                "{} acts on your own call: switch to it first ({view})",
                cmd.name()
            ),
        );
    }
    let Some(s) = selected(state) else {
        return info(state, now, "no session selected");
    };
    match cmd {
        Command::Consult => open(state, s, now),
        Command::Swap => swap(state, &s, now),
        _ => act(state, cmd, &s, now, fx),
    }
}

/// The keys the consulting agent has, for notices.
fn keys(state: &State) -> String {
    let k = |c| state.keymap.key_label(c);
    format!(
        "{} completes the transfer, {} makes a conference, {} cancels",
        k(Command::CompleteTransfer),
        k(Command::Conference),
        k(Command::CancelConsult)
    )
}

fn open(state: &mut State, s: Session, now: u64) {
    if let Some(c) = state.consult_for(&s.id) {
        let text = if state.consults(c) {
            format!("a consult is under way: {}", keys(state))
        } else {
            format!(
                "{} consults you about this call: {} leaves the consult",
                c.from_user_id,
                state.keymap.key_label(Command::HangUp)
            )
        };
        return info(state, now, text);
    }
    let customer_call =
        matches!(s.kind, CallType::Phone | CallType::Voip) && s.consult_of().is_none();
    if !customer_call || !matches!(s.phase, Phase::Talking | Phase::Held) {
        return info(
            state,
            now,
            "only a phone or VoIP call with a customer, in progress, can be consulted on",
        );
    }
    state.dialog = Some(Dialog::Transfer {
        session_id: s.id,
        to: TransferTo::Agent,
        input: String::new(),
        consult: true,
    });
}

/// Enter in the consult dialog: `Call.consult` with the colleague or group.
pub(super) fn send(
    state: &mut State,
    session_id: String,
    to: TransferTo,
    target: String,
    fx: &mut Vec<Effect>,
) {
    let params = match to {
        TransferTo::SkillGroup => json!({ "sessionId": session_id, "skillGroupId": target }),
        TransferTo::Agent => json!({ "sessionId": session_id, "userId": target }),
        TransferTo::Number => json!({ "sessionId": session_id, "phoneNumber": target }),
    };
    let target = match to {
        TransferTo::SkillGroup => format!("the {target} group"),
        TransferTo::Agent | TransferTo::Number => target,
    };
    request(
        state,
        "Call.consult",
        params,
        Purpose::Consult { session_id, target },
        fx,
    );
}

/// `Call.consult` succeeded: the sessions follow by `sessionUpdated`.
pub(super) fn answered(state: &mut State, session_id: &str, target: &str, now: u64) {
    let customer = state
        .session(session_id)
        .map(|s| s.peer())
        .unwrap_or_else(|| session_id.to_string());
    info(state, now, format!("consulting {target}; {customer} holds"));
}

fn act(state: &mut State, cmd: Command, s: &Session, now: u64, fx: &mut Vec<Effect>) {
    let Some(c) = state.consult_for(&s.id).cloned() else {
        return info(
            state,
            now,
            format!(
                "no consult on this session: {} consults a colleague first",
                state.keymap.key_label(Command::Consult)
            ),
        );
    };
    let (method, what) = match cmd {
        Command::CompleteTransfer => ("Call.completeTransfer", "complete the transfer"),
        Command::Conference => ("Call.conference", "make it a conference"),
        _ => ("Call.cancelConsult", "cancel the consult"),
    };
    if !state.consults(&c) {
        return info(
            state,
            now,
            format!(
                "only {}, who consults you, can {what}; {} leaves the consult",
                c.from_user_id,
                state.keymap.key_label(Command::HangUp)
            ),
        );
    }
    let who = state.consult_colleague(&c);
    let cancel = state.keymap.key_label(Command::CancelConsult);
    match (cmd, c.phase) {
        (Command::CompleteTransfer | Command::Conference, ConsultPhase::Ringing) => info(
            state,
            now,
            format!("{who} has not answered yet; {cancel} cancels the consult"),
        ),
        (Command::Conference, ConsultPhase::Conference) => info(
            state,
            now,
            format!(
                "already a conference: {} hands the customer over to {who}, {cancel} ends it with {who}",
                state.keymap.key_label(Command::CompleteTransfer)
            ),
        ),
        _ => session_request(state, method, &c.session_id, fx),
    }
}

/// Select the other session of the consult: the customer's or the leg.
fn swap(state: &mut State, s: &Session, now: u64) {
    let Some(c) = state.consult_for(&s.id).cloned() else {
        return info(state, now, "no consult on this session: nothing to swap to");
    };
    let other = if s.id == c.session_id {
        &c.consult_session_id
    } else {
        &c.session_id
    };
    if state.session(other).is_none() {
        let text = if state.consults(&c) {
            format!(
                "the call with {} is not here yet",
                state.consult_colleague(&c)
            )
        } else {
            format!(
                "the customer's session is {}'s until the transfer",
                c.from_user_id
            )
        };
        return info(state, now, text);
    }
    state.typing = false;
    state.selected = Some(other.clone());
}

/// Keys that would break a consult in progress (hold, a blind transfer):
/// the consult keys are said instead. True when the key is taken care of.
pub(super) fn refuses(state: &mut State, cmd: Command, s: &Session, now: u64) -> bool {
    let Some(c) = state.consult_for(&s.id) else {
        return false;
    };
    if !state.consults(c) {
        return false;
    }
    let on_customer = s.id == c.session_id;
    let text = match (cmd, c.phase, on_customer) {
        // In a conference, hold puts the customer back on hold.
        (Command::Hold, ConsultPhase::Conference, true) => return false,
        (Command::Hold, ConsultPhase::Conference, false) => format!(
            "the customer is held from their session ({} selects it)",
            state.keymap.key_label(Command::Swap)
        ),
        (Command::Hold, _, _) => format!("the customer holds for the consult: {}", keys(state)),
        (_, _, true) => format!("a consult is under way: {}", keys(state)),
        _ => return false,
    };
    info(state, now, text);
    true
}

/// The session whose microphone the mute key mutes (see
/// [`State::microphone_of`]).
pub(super) fn microphone(state: &State, s: Session) -> Session {
    state.microphone_of(&s).clone()
}

/// A session was first heard of by `sessionUpdated`: when it is the
/// customer's session of the consult leg this agent is on, it was handed
/// over here (the consulting agent completed the transfer): select it.
pub(super) fn arrived(state: &mut State, id: &str, now: u64) {
    let leg = state
        .sessions
        .iter()
        .find(|s| s.consult_of() == Some(id) && !s.is_ended())
        .map(|s| (s.id.clone(), s.peer()));
    let Some((leg, from)) = leg else {
        return;
    };
    let busy_elsewhere = state
        .selected_session()
        .is_some_and(|s| s.id != leg && s.id != id && s.phase.is_active());
    if busy_elsewhere {
        return;
    }
    state.typing = false;
    state.selected = Some(id.to_string());
    let customer = state.session(id).map(|s| s.peer()).unwrap_or_default();
    info(
        state,
        now,
        format!("{customer}: handed over to you by {from}"),
    );
}

/// Session `id` ended or left this agent (`reason`: the server's main
/// reason). Its consult is over; when it was a consult leg, its customer's
/// session (if here) loses the consult too, is selected again if the leg
/// was, and the agent hears why.
pub(super) fn ended(state: &mut State, id: &str, reason: Option<&str>, now: u64) {
    let Some(s) = state.session_mut(id) else {
        return;
    };
    s.consult = None;
    let colleague = s.peer();
    let Some(of) = s.consult_of().map(str::to_string) else {
        return;
    };
    let hold = state.keymap.key_label(Command::Hold);
    let was_selected = state.selected.as_deref() == Some(id);
    let customer = match state.session_mut(&of).filter(|x| !x.is_ended()) {
        Some(x) => {
            if x.consult
                .as_ref()
                .is_some_and(|c| c.consult_session_id == id)
            {
                x.consult = None;
            }
            Some((x.peer(), x.phase))
        }
        None => None,
    };
    if was_selected && customer.is_some() {
        state.selected = Some(of.clone());
    }
    let text = match (reason, customer) {
        (Some("transferred"), _) => return,
        (Some("consultCancelled"), Some((who, _))) => format!("consult cancelled: back with {who}"),
        (Some("consultCancelled"), None) => format!("{colleague} cancelled the consult"),
        (Some("customerLeft"), None) => "the customer hung up: the consult is over".into(),
        (Some("customerSessionEnded"), None) => {
            "the customer's call ended: the consult is over".into()
        }
        (why, Some((who, Phase::Held))) => format!(
            "the consult with {colleague} ended{}; {who} holds: {hold} takes the call back",
            why.map(|w| format!(" ({w})")).unwrap_or_default()
        ),
        _ => return,
    };
    info(state, now, text);
}
