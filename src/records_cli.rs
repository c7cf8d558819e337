//! `ccdesk records`: printing session records as a table or JSON lines.

use std::io::Write;

use crate::server::records::SessionRecord;

fn time(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn secs(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!("{:.1}", ms as f64 / 1000.0),
        None => "-".into(),
    }
}

/// Print records; one JSON object per line with `json`.
pub fn print(rows: &[SessionRecord], json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if json {
        for r in rows {
            writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default())?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:<22} {:<8} {:<8} {:<9} {:<16} {:<16} {:<20} {:>6} {:>6} {:>6} {:>6} {:<7} reason",
        "session",
        "type",
        "dir",
        "group",
        "agents",
        "caller",
        "ended",
        "wait",
        "talk",
        "hold",
        "acw",
        "closeBy"
    )?;
    for r in rows {
        let wait = r
            .accepted_at
            .map(|a| a.saturating_sub(r.created_at))
            .or(Some(r.ended_at.saturating_sub(r.created_at)));
        let talk = r
            .accepted_at
            .map(|a| r.ended_at.saturating_sub(a).saturating_sub(r.hold_ms));
        let mut reason = [r.main_reason.as_deref(), r.sub_reason.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        if !r.transfers.is_empty() {
            let hops: Vec<String> = r
                .transfers
                .iter()
                .map(|t| {
                    format!(
                        "{}→{}{}",
                        t.from,
                        t.to_user
                            .as_deref()
                            .or(t.to_phone_number.as_deref())
                            .or(t.to_skill_group.as_deref())
                            .unwrap_or("?"),
                        if t.consult.is_some() {
                            " after consult"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&format!("transfers {}", hops.join(", ")));
        }
        if let Some(n) = &r.callback {
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&format!("callback to {n}"));
        }
        if let Some(of) = &r.consult_of {
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&format!("consult about {of}"));
        }
        if let Some(code) = &r.wrap_up_code {
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&format!("wrap-up {code}"));
            if let Some(notes) = &r.wrap_up_notes {
                let short: String = notes.chars().take(40).collect();
                let more = if notes.chars().count() > 40 {
                    "…"
                } else {
                    ""
                };
                reason.push_str(&format!(" \"{short}{more}\""));
            }
        }
        writeln!(
            out,
            "{:<22} {:<8} {:<8} {:<9} {:<16} {:<16} {:<20} {:>6} {:>6} {:>6} {:>6} {:<7} {}",
            r.session_id,
            r.kind,
            r.direction,
            r.skill_group.as_deref().unwrap_or("-"),
            if r.agents.is_empty() {
                "-".to_string()
            } else {
                r.agents.join(",")
            },
            r.caller.as_deref().unwrap_or("-"),
            time(r.ended_at),
            secs(wait),
            secs(talk),
            secs(Some(r.hold_ms)),
            secs(r.acw_ms),
            r.close_by,
            reason
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_the_wrap_up_and_json_keeps_it() {
        let rec = SessionRecord {
            session_id: "s-1".into(),
            kind: "phone".into(),
            direction: "inbound".into(),
            skill_group: Some("support".into()),
            agents: vec!["alice".into()],
            caller: Some("+1555".into()),
            callee: None,
            created_at: 1_000,
            offered_at: Some(2_000),
            accepted_at: Some(3_000),
            ended_at: 63_000,
            hold_ms: 0,
            acw_ms: Some(5_000),
            close_by: "client".into(),
            main_reason: None,
            sub_reason: None,
            missed_offers: 0,
            transfers: vec![],
            recording: None,
            transcript: vec![],
            uui: None,
            wrap_up_code: Some("Resolved".into()),
            wrap_up_notes: Some("new address confirmed".into()),
            attributes: Default::default(),
            consult_of: None,
            callback: None,
            recording_pauses: Vec::new(),
        };
        let mut out = Vec::new();
        print(std::slice::from_ref(&rec), false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("wrap-up Resolved \"new address confirmed\""),
            "{text}"
        );
        let mut out = Vec::new();
        print(&[rec], true, &mut out).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert!(json.contains("\"wrapUpCode\":\"Resolved\""), "{json}");
    }
}
