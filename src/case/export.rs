//! Getting a case out: a decrypted incident record for the final report
//! (Markdown or JSON, written only where the responder says), or an
//! encrypted bundle for a teammate on another jump box.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::keys::{Identity, Recipient};
use super::record::{Body, Record};
use super::{Case, CaseError, Header, Unlocked};
use crate::model::SafeText;

/// What a JSON export and a bundle hold.
#[derive(Serialize, Deserialize)]
pub struct Export {
    pub warroom_export: u32,
    pub case: Header,
    /// In a bundle, without the event records: their batches travel in
    /// `events`.
    pub records: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventBatch>,
}

#[derive(Serialize, Deserialize)]
pub struct EventBatch {
    pub stream: String,
    pub time: String,
    pub events: Vec<serde_json::Value>,
}

/// The case's records, and its pulled events when `with_events`.
pub fn collect(case: &Unlocked, with_events: bool) -> Result<Export, CaseError> {
    let contents = case.read()?;
    if let Some(damage) = contents.damage {
        return Err(CaseError::Damaged(damage));
    }
    let mut records = Vec::new();
    let mut events = Vec::new();
    for record in contents.records {
        // In a bundle the batches travel whole (the importer keeps them
        // again); in a report their records say what was kept.
        if let (true, Body::Events { stream, .. }) = (with_events, &record.body) {
            events.push(EventBatch {
                stream: stream.clone(),
                time: record.time.clone(),
                events: case.load_events(&record)?,
            });
            continue;
        }
        records.push(record);
    }
    Ok(Export {
        warroom_export: 1,
        case: case.case.header.clone(),
        records,
        events,
    })
}

/// The pulled events alone, one JSON object per line, as `pull --out`
/// writes them: what `scan` and other tools read.
pub fn events_ndjson(export: &Export) -> Vec<u8> {
    let mut out = Vec::new();
    for event in export.events.iter().flat_map(|batch| &batch.events) {
        out.extend_from_slice(event.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

pub fn json(export: &Export) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(export).expect("exports serialize");
    out.push(b'\n');
    out
}

/// The incident record as Markdown: a timeline of every record, then the
/// notes in full (amendments marked). Text is escaped as on screen.
pub fn markdown(export: &Export) -> Vec<u8> {
    let h = &export.case;
    let mut md = String::new();
    md.push_str(&format!("# Case {}\n\n", SafeText::new(&h.name)));
    md.push_str(&format!(
        "- Case id: `{}`\n- Created: {}\n- Readable by: {}\n- Records: {}\n\n",
        h.id,
        h.created,
        h.recipients
            .iter()
            .map(|r| format!("`{}`", SafeText::new(r)))
            .collect::<Vec<_>>()
            .join(", "),
        export.records.len()
    ));
    md.push_str("## Timeline\n\n| time (UTC) | who | what |\n|---|---|---|\n");
    for r in &export.records {
        let what = match &r.body {
            Body::CaseOpened { name } => format!("case {} opened", SafeText::new(name)),
            Body::Note { text, .. } => {
                format!("note: {}", SafeText::new(text.lines().next().unwrap_or("")))
            }
            Body::Recipients {
                recipients,
                rekeyed,
            } => format!(
                "readable by {} recipient(s){}",
                recipients.len(),
                if *rekeyed { ", key replaced" } else { "" }
            ),
            Body::Events { stream, count, .. } => {
                format!("{count} {} events kept", SafeText::new(stream))
            }
            Body::Checkpoint { stream, .. } => {
                format!("{} stream checkpoint", SafeText::new(stream))
            }
            Body::Triage {
                finding,
                state,
                reason,
                owner,
                ..
            } => format!(
                "finding {} triaged {}{}{}",
                SafeText::new(finding),
                SafeText::new(state),
                if owner.is_empty() {
                    String::new()
                } else {
                    format!(", owner {}", SafeText::new(owner))
                },
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", SafeText::new(reason))
                },
            ),
            Body::Suppress {
                detection,
                field,
                value,
                reason,
            } => format!(
                "{} findings about {}={} suppressed: {}",
                SafeText::new(detection),
                SafeText::new(field),
                SafeText::new(value),
                SafeText::new(reason)
            ),
            Body::ItemState {
                item,
                state,
                reason,
                at,
                overridden,
                ..
            } => format!(
                "checklist item {} set to {}{}{}{}",
                SafeText::new(item),
                SafeText::new(state),
                if at.is_empty() {
                    String::new()
                } else {
                    format!(" (it happened at {})", SafeText::new(at))
                },
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", SafeText::new(reason))
                },
                if overridden.is_empty() {
                    String::new()
                } else {
                    format!(" (went ahead despite: {})", SafeText::new(overridden))
                },
            ),
            Body::ItemAdded { phase, title } => format!(
                "checklist item added to {}: {}",
                SafeText::new(phase),
                SafeText::new(title)
            ),
            Body::Action {
                method,
                url,
                object_name,
                summary,
                ..
            } => format!(
                "action {} {} on {}: {}",
                SafeText::new(method),
                SafeText::new(url),
                SafeText::new(object_name),
                SafeText::new(summary)
            ),
            Body::Unknown => "a record this warroom does not know".into(),
        };
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            r.time,
            crate::model::markdown_inline(&r.author),
            crate::model::markdown_inline(&what)
        ));
    }
    md.push_str("\n## Notes\n");
    for r in &export.records {
        let Body::Note {
            text,
            tags,
            supersedes,
            ..
        } = &r.body
        else {
            continue;
        };
        md.push_str(&format!(
            "\n### {} — {} (`{}`)\n\n",
            r.time,
            SafeText::new(&r.author),
            r.id
        ));
        if !tags.is_empty() {
            md.push_str(&format!("Tags: {}\n\n", SafeText::new(&tags.join(", "))));
        }
        if let Some(old) = supersedes {
            md.push_str(&format!("Amends `{}`.\n\n", SafeText::new(old)));
        }
        for line in text.lines() {
            md.push_str(&format!("    {}\n", SafeText::new(line)));
        }
    }
    md.into_bytes()
}

/// The export, age-encrypted to `recipients`.
pub fn bundle(export: &Export, recipients: &[Recipient]) -> Result<Vec<u8>, CaseError> {
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r.key.as_ref() as _))
        .map_err(|e| CaseError::Key(format!("cannot encrypt to these recipients: {e}")))?;
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(&json(export))?;
    writer.finish()?;
    Ok(out)
}

/// Opens a bundle and creates a case from it, readable by the recipients
/// it names; the records keep their ids, times and authors.
pub fn import(
    data_dir: &std::path::Path,
    sealed: &[u8],
    identity: &Identity,
    name: Option<&str>,
) -> Result<Case, CaseError> {
    let decryptor = age::Decryptor::new(sealed)
        .map_err(|e| CaseError::Invalid(format!("not a warroom bundle: {e}")))?;
    let mut plain = zeroize::Zeroizing::new(Vec::new());
    decryptor
        .decrypt(
            identity
                .keys
                .iter()
                .map(|k| k.as_ref() as &dyn age::Identity),
        )
        .map_err(|e| CaseError::Key(format!("cannot open the bundle: {e}")))?
        .read_to_end(&mut plain)?;
    let export: Export = serde_json::from_slice(&plain)
        .map_err(|e| CaseError::Invalid(format!("not a warroom bundle: {e}")))?;
    // The case's team, and whoever imports it (a bundle may have been
    // sealed to someone new).
    let mut texts = export.case.recipients.clone();
    for public in &identity.public {
        if !texts.contains(public) {
            texts.push(public.clone());
        }
    }
    let recipients = texts
        .iter()
        .map(|r| Recipient::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let name = name.unwrap_or(&export.case.name);
    let case = Case::create(data_dir, name, recipients)?;
    let unlocked = case.unlock(identity)?;
    unlocked.append_records(
        export
            .records
            .into_iter()
            .filter(|r| !matches!(r.body, Body::CaseOpened { .. }))
            .collect(),
    )?;
    for batch in &export.events {
        unlocked.save_events(&batch.stream, &batch.events)?;
    }
    Ok(unlocked.case)
}
