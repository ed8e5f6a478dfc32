//! What the journal records: who did what, when. Serialized as JSON inside
//! the encryption; kinds this build does not know are kept and shown as such.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Unique, random; what `notes add` prints and links point at.
    pub id: String,
    /// UTC, RFC 3339.
    pub time: String,
    pub author: String,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Body {
    CaseOpened {
        name: String,
    },
    /// A note; an amendment names the note it supersedes (notes are never
    /// edited in place).
    Note {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        /// Findings, events, entities or checklist items it is about.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        links: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supersedes: Option<String>,
    },
    /// Who can read the case from this record on.
    Recipients {
        recipients: Vec<String>,
        /// Whether the data key was replaced (someone was removed).
        rekeyed: bool,
    },
    /// A batch of pulled events, kept in an encrypted segment beside the
    /// journal; its hash binds the segment into the chain.
    Events {
        stream: String,
        segment: String,
        count: u64,
        sha256: String,
        /// Where the stream that brought them stands once they are kept
        /// (its owner's own shape): a restart continues from the last one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<serde_json::Value>,
    },
    /// Where a stream stands when a page brought nothing new to keep.
    Checkpoint {
        stream: String,
        state: serde_json::Value,
    },
    /// A triage decision on a finding (findings are named by their stable
    /// id: the same detection and group give the same id on every run).
    Triage {
        finding: String,
        detection: String,
        /// new, investigating, confirmed, benign or false-positive.
        state: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        owner: String,
    },
    /// Findings of one detection about one entity set aside, now and later.
    Suppress {
        detection: String,
        field: String,
        value: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// A checklist item's new state (items are named by key: the template
    /// item's id, `ID:object` for one a finding called for, `own-…`).
    ItemState {
        item: String,
        /// todo, in-progress, done, blocked or n/a.
        state: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        owner: String,
        /// When it really happened (RFC 3339), when not when recorded.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        at: String,
        /// The blockers the team went ahead despite, in words.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        overridden: String,
    },
    /// An item the team added to a phase of the checklist.
    ItemAdded {
        phase: String,
        title: String,
    },
    /// A checklist action on the tenant: the request as sent (or, for a dry
    /// run, as it would have been), Graph's answer, and the object before
    /// and after, each as JSON text.
    Action {
        item: String,
        action: String,
        object_id: String,
        object_name: String,
        method: String,
        url: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        request: String,
        /// done, refused, unknown or dry-run.
        outcome: String,
        #[serde(default)]
        status: u16,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        response: String,
        #[serde(default)]
        before: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        after: String,
        verified: bool,
        summary: String,
    },
    /// Written by a newer warroom.
    #[serde(other)]
    Unknown,
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::CaseOpened { .. } => "case-opened",
            Body::Note { .. } => "note",
            Body::Recipients { .. } => "recipients",
            Body::Events { .. } => "events",
            Body::Checkpoint { .. } => "checkpoint",
            Body::Triage { .. } => "triage",
            Body::Suppress { .. } => "suppress",
            Body::ItemState { .. } => "item-state",
            Body::ItemAdded { .. } => "item-added",
            Body::Action { .. } => "action",
            Body::Unknown => "unknown",
        }
    }
}

/// A fresh record id: 128 random bits, hex.
pub fn new_id() -> Result<String, super::CaseError> {
    let mut bytes = [0u8; 16];
    super::journal::getrandom(&mut bytes)?;
    Ok(crate::model::hex(&bytes))
}

/// The configuration's `[case] responder`, once read.
static RESPONDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the responder on every record this process writes (unless
/// `WARROOM_AUTHOR` says otherwise).
pub fn set_responder(name: &str) {
    let name = name.trim();
    if !name.is_empty() {
        let _ = RESPONDER.set(name.to_owned());
    }
}

/// Who writes a record: `WARROOM_AUTHOR`, else the configured responder,
/// else the login name (from the environment, else the account database)
/// at this host.
pub fn author() -> String {
    if let Ok(author) = std::env::var("WARROOM_AUTHOR")
        && !author.trim().is_empty()
    {
        return author.trim().to_owned();
    }
    if let Some(name) = RESPONDER.get() {
        return name.clone();
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .or_else(login_name)
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

/// This process's user name from /etc/passwd (a tmux or a service started
/// without USER still knows who runs it).
fn login_name() -> Option<String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2].parse::<u32>().ok()? == uid).then(|| fields[0].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_name_comes_from_the_account_database() {
        // Whoever runs the tests has an entry (root in CI containers).
        let name = login_name().expect("an /etc/passwd entry for this uid");
        assert!(!name.is_empty() && !name.contains(':'));
    }

    #[test]
    fn unknown_kinds_are_kept_readable() {
        let r: Record = serde_json::from_str(
            r#"{"id":"1","time":"t","author":"a","kind":"hologram","finding":"x"}"#,
        )
        .unwrap();
        assert_eq!(r.body, Body::Unknown);
        let note = Record {
            id: "2".into(),
            time: "t".into(),
            author: "a".into(),
            body: Body::Note {
                text: "x".into(),
                tags: vec![],
                links: vec![],
                supersedes: None,
            },
        };
        let text = serde_json::to_string(&note).unwrap();
        assert!(text.contains(r#""kind":"note""#), "{text}");
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), note);
    }
}
