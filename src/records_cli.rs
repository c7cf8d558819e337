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
                        "{}→{}",
                        t.from,
                        t.to_user
                            .as_deref()
                            .or(t.to_skill_group.as_deref())
                            .unwrap_or("?")
                    )
                })
                .collect();
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&format!("transfers {}", hops.join(", ")));
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
