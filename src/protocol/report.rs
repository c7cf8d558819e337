//! Extension: the figures of `ccdesk report` and `Supervisor.report`,
//! computed from the session records with the wallboard's definitions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the rows of a report are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReportBy {
    /// One row: everything.
    #[default]
    All,
    /// A row per agent who handled sessions (a session two agents handled
    /// counts for both).
    Agent,
    /// A row per skill group (the session's group at its end).
    Group,
    /// A row per hour the sessions arrived in (UTC).
    Hour,
    /// A row per wrap-up code.
    Wrapup,
}

impl ReportBy {
    pub fn parse(s: &str) -> Option<ReportBy> {
        Some(match s {
            "all" => ReportBy::All,
            "agent" => ReportBy::Agent,
            "group" => ReportBy::Group,
            "hour" => ReportBy::Hour,
            "wrapup" => ReportBy::Wrapup,
            _ => return None,
        })
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// The agent, group, hour (`2026-12-01T14`) or code; `all` for the
    /// one-row report; `-` for sessions with none.
    pub key: String,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Percent (see the wallboard's definition), when anything counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
    /// Average speed of answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asa_ms: Option<u64>,
    /// Average handle time: talk, hold and after-call work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aht_ms: Option<u64>,
    /// Transfers (blind or after a consult) out of these sessions.
    pub transfers: u64,
    /// How many sessions had each wrap-up code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wrap_up_codes: BTreeMap<String, u64>,
}

/// `Supervisor.report`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportParams {
    #[serde(default)]
    pub by: ReportBy,
    /// Sessions that ended since then (unix ms); default: since the
    /// wallboard's day started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
}
