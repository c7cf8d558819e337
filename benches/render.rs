//! How long a frame of a busy 120x40 agent screen takes to draw.
//! `cargo bench --bench render` (figures in docs/BENCHMARKS.md).

use std::hint::black_box;

use ccdesk::app::keymap::Keymap;
use ccdesk::app::{reduce, Action, State};
use ccdesk::protocol::*;
use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const T0: u64 = 1_700_000_000_000;

/// Logged in, a talking call with a long transcript, a dozen sessions in the list.
fn busy_state() -> State {
    let mut s = State::new(
        "ws://127.0.0.1:7070/ws".into(),
        "alice".into(),
        Keymap::default(),
        T0,
    );
    reduce(
        &mut s,
        Action::LoggedIn(LoginResult {
            tab_uuid: "0f9e7a52-3c1d-4b8e-9a55-2f4c6d8e1b3a".into(),
            user_id: "alice".into(),
            role: "agent".into(),
            status: "free".into(),
            rest_reason: None,
            skill_groups: vec!["support".into(), "sales".into()],
            sessions: vec![],
            seat: None,
            after_call_work: None,
            token: None,
            token_expires_at: None,
        }),
        T0,
    );
    for i in 0..12 {
        let kind = [CallType::Phone, CallType::Im, CallType::Video][i % 3];
        reduce(
            &mut s,
            Action::Server(Event::CallIn(CallIn {
                session_id: format!("s-{i}"),
                kind,
                timeout: 30,
                caller_phone_number: Some(format!("1380000{i:04}")),
                protected_caller: Some(format!("138****{i:04}")),
                caller_location: Some("Shenzhen".into()),
                nickname: Some(format!("Customer {i}")),
                ivr_path: Some(vec![IvrNode {
                    key: "1".into(),
                    label: "Billing".into(),
                }]),
                ..CallIn::default()
            })),
            T0 + i as u64,
        );
    }
    reduce(
        &mut s,
        Action::Server(Event::UserAccessed {
            session_id: "s-0".into(),
            tab_uuid: None,
        }),
        T0 + 100,
    );
    s.selected = Some("s-0".into());
    for i in 0..400u32 {
        let flow = if i % 2 == 0 { Flow::In } else { Flow::Out };
        reduce(
            &mut s,
            Action::Server(Event::Asr {
                session_id: "s-0".into(),
                flow,
                result: AsrResult {
                    index: i / 2,
                    slice_type: if i >= 398 { 1 } else { 2 },
                    start_time: i as u64 * 1000,
                    end_time: i as u64 * 1000 + 900,
                    text: format!("sentence {i}: the customer explains the billing problem in some detail, again"),
                },
            }),
            T0 + 200,
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let state = busy_state();
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    c.bench_function("draw busy 120x40 (full repaint)", |b| {
        b.iter(|| {
            // Clearing forces the diff to repaint every cell.
            term.clear().expect("clear");
            term.draw(|f| ccdesk::ui::draw(black_box(&state), f))
                .expect("draw");
        })
    });
    let mut later = state.clone();
    c.bench_function("draw busy 120x40 (timer tick)", |b| {
        let mut t = T0 + 1_000;
        b.iter(|| {
            t += 1_000;
            reduce(&mut later, Action::Tick, t);
            term.draw(|f| ccdesk::ui::draw(black_box(&later), f))
                .expect("draw");
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
