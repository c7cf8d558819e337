//! `ccdesk report`: the figures of a period from the session records, as a
//! table, CSV or JSON (computed by `server::report`, with the wallboard's
//! definitions).

use std::io::Write;

use crate::protocol::ReportRow;

/// How `ccdesk report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

fn secs(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), |ms| format!("{:.1}", ms as f64 / 1000.0))
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{p:.1}"))
}

fn codes(r: &ReportRow, sep: &str, eq: &str) -> String {
    r.wrap_up_codes
        .iter()
        .map(|(c, n)| format!("{c}{eq}{n}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

pub fn print(rows: &[ReportRow], format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            writeln!(out, "{}", serde_json::to_string(rows).unwrap_or_default())
        }
        Format::Csv => {
            writeln!(
                out,
                "key,offered,answered,abandoned,service_level,asa_s,aht_s,transfers,wrap_up_codes"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    csv(&r.key),
                    r.offered,
                    r.answered,
                    r.abandoned,
                    r.service_level.map_or(String::new(), |p| format!("{p:.2}")),
                    r.asa_ms
                        .map_or(String::new(), |m| format!("{:.3}", m as f64 / 1000.0)),
                    r.aht_ms
                        .map_or(String::new(), |m| format!("{:.3}", m as f64 / 1000.0)),
                    r.transfers,
                    csv(&codes(r, ";", "="))
                )?;
            }
            Ok(())
        }
        Format::Table => {
            writeln!(
                out,
                "{:<20} {:>7} {:>8} {:>9} {:>6} {:>7} {:>7} {:>9}  wrap-up codes",
                "", "offered", "answered", "abandoned", "SL %", "ASA s", "AHT s", "transfers"
            )?;
            if rows.is_empty() {
                writeln!(out, "(no sessions in the period)")?;
            }
            for r in rows {
                writeln!(
                    out,
                    "{:<20} {:>7} {:>8} {:>9} {:>6} {:>7} {:>7} {:>9}  {}",
                    r.key,
                    r.offered,
                    r.answered,
                    r.abandoned,
                    percent(r.service_level),
                    secs(r.asa_ms),
                    secs(r.aht_ms),
                    r.transfers,
                    codes(r, ", ", " ")
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ReportRow {
        ReportRow {
            key: "support, 2nd line".into(),
            offered: 4,
            answered: 2,
            abandoned: 2,
            service_level: Some(100.0 / 3.0),
            asa_ms: Some(20_000),
            aht_ms: Some(85_000),
            transfers: 1,
            wrap_up_codes: [("Resolved".into(), 1), ("Escalated".into(), 1)].into(),
        }
    }

    fn printed(format: Format) -> String {
        let mut out = Vec::new();
        print(&[row()], format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_csv_and_json() {
        let t = printed(Format::Table);
        assert!(t.contains("33.3"), "{t}");
        assert!(t.contains("20.0") && t.contains("85.0"), "{t}");
        assert!(t.contains("Escalated 1, Resolved 1"), "{t}");
        let c = printed(Format::Csv);
        let line = c.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "\"support, 2nd line\",4,2,2,33.33,20.000,85.000,1,Escalated=1;Resolved=1"
        );
        let j = printed(Format::Json);
        let back: Vec<ReportRow> = serde_json::from_str(j.trim()).unwrap();
        assert_eq!(back, vec![row()]);
    }
}
