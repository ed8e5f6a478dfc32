//! Findings for people and programs: a table (the default), JSON (one
//! array), NDJSON (one finding a line) and Markdown for the incident
//! record. Text from the evidence is escaped as on screen.

use super::Finding;
use crate::model::SafeText;

pub fn json(findings: &[Finding]) -> String {
    let mut out = serde_json::to_string_pretty(findings).expect("findings serialize");
    out.push('\n');
    out
}

pub fn ndjson(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| serde_json::to_string(f).expect("findings serialize") + "\n")
        .collect()
}

pub fn table(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No findings.\n".to_owned();
    }
    let mut out = String::new();
    for f in findings {
        // A posture verdict is about the snapshot, not a span of events.
        let when = if f.verdict.is_some() {
            format!(
                "snapshot of {}",
                f.last_seen.as_deref().unwrap_or("unknown time")
            )
        } else {
            format!(
                "{} events, {} to {}",
                f.count,
                f.first_seen.as_deref().unwrap_or("?"),
                f.last_seen.as_deref().unwrap_or("?")
            )
        };
        let techniques = if f.techniques.is_empty() {
            String::new()
        } else {
            format!("{}; ", f.techniques.join(", "))
        };
        out.push_str(&format!(
            "{}  {}  ({techniques}{when})\n      {}\n",
            f.severity.label(),
            SafeText::new(&f.title),
            SafeText::new(&f.explanation),
        ));
    }
    out
}

pub fn markdown(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "# Findings\n\nNo findings.\n".to_owned();
    }
    let mut md = String::from(
        "# Findings\n\n| severity | finding | techniques | events | first seen | last seen |\n|---|---|---|---|---|---|\n",
    );
    // Titles and rationales may carry indicator values or Sigma rules' text.
    let cell = crate::model::markdown_inline;
    let code = crate::model::markdown_code;
    for f in findings {
        md.push_str(&format!(
            "| {:?} | {} | {} | {} | {} | {} |\n",
            f.severity,
            cell(&f.title),
            f.techniques.join(", "),
            f.count,
            f.first_seen.as_deref().unwrap_or(""),
            f.last_seen.as_deref().unwrap_or("")
        ));
    }
    for f in findings {
        md.push_str(&format!(
            "\n## {} ({})\n\n{}\n\n**Why it matters.** {}\n\n",
            cell(&f.title),
            code(&f.id),
            cell(&f.explanation),
            cell(&f.rationale)
        ));
        if !f.entities.is_empty() {
            md.push_str("Entities:\n\n");
            for e in f.entities.iter().take(20) {
                md.push_str(&format!("- {}: {}\n", cell(&e.field), code(&e.value)));
            }
            md.push('\n');
        }
        if !f.remediation.is_empty() {
            md.push_str(&format!("Remediation: {}\n\n", f.remediation.join(", ")));
        }
        md.push_str(&format!(
            "Evidence ({} events; first {} ids): {}\n",
            f.count,
            f.evidence.len().min(10),
            f.evidence
                .iter()
                .take(10)
                .map(|e| code(e))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    md
}
