//! Parsing only what the rules read: a record's top-level fields are
//! skimmed as raw JSON text, and only the fields some rule (or the engine)
//! looks at are parsed into values. A sign-in carries sixty-odd fields and
//! the rules read a dozen, so most of each line is never built.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::json::{Json, Key, Object};

use super::rule::Ready;

/// The top-level fields the engine needs: those the rules read, and those
/// that say what kind of record it is, when and which.
/// `also`: more fields someone else reads (an indicator list's), named as
/// Graph names them; their Log Analytics spellings are added like the rest.
pub fn needed_fields(rules: &[Ready], also: BTreeSet<String>) -> BTreeSet<String> {
    let mut fields: BTreeSet<String> = [
        "id",
        "@warroom.source",
        "activityDisplayName",
        "activityDateTime",
        "riskEventType",
        "detectedDateTime",
        // Older risk detections.
        "riskType",
        "riskLevel",
        "operation",
        "auditData",
        "auditLogRecordType",
        "createdDateTime",
        "status",
        "ipAddress",
        "appId",
        // What the claim baseline reads.
        "userPrincipalName",
        "autonomousSystemNumber",
        "authenticationDetails",
        // What the issuer baseline reads.
        "tokenIssuerType",
        "tokenIssuerName",
        // What the service-principal baseline reads.
        "type",
        "signInEventTypes",
        "servicePrincipalId",
        "servicePrincipalName",
        "managedServiceIdentity",
        "appDisplayName",
        // What the joins read.
        "result",
        "initiatedBy",
        "targetResources",
        // A Graph page on one line: its records are read whole.
        "value",
        // What tells a Graph security alert from a sign-in.
        "serviceSource",
        "alertWebUrl",
        // What tells a Windows event and says when, where and which.
        "EventID",
        "TimeGenerated",
        "TimeCreated",
        "@timestamp",
        "EventTime",
        "UtcTime",
        "Computer",
        "Hostname",
        "Channel",
        "EventLog",
        "EventSourceName",
        "SourceName",
        "Source",
        "ProviderName",
        "EventOriginId",
        "RecordNumber",
        "EventRecordID",
        // What the forged-token join reads.
        "isInteractive",
        "UserId",
        "UserID",
        "Upn",
        "UPN",
        "AccountName",
        "Message",
        "EventData",
        "EventData_string",
        "XmlPayload",
        "ParameterXml",
        "EventData_dynamic",
        "InstanceId",
        "ClaimsName",
    ]
    .into_iter()
    .chain(super::acl::FIELDS.iter().copied())
    .chain(super::prefilter::joined_fields())
    .map(str::to_owned)
    .collect();
    for rule in rules {
        fields.extend(
            rule.paths()
                .map(|p| p.split('.').next().unwrap_or(p).to_owned()),
        );
    }
    fields.extend(also);
    // The same columns as Log Analytics and diagnostic settings name them.
    let capitalised: Vec<String> = fields
        .iter()
        .map(|f| {
            let mut c = f.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect();
    fields.extend(capitalised);
    let normalize = &crate::model::record::EXTRA_COLUMNS;
    let whole = &crate::model::record::READ_WHOLE;
    fields.extend(
        normalize
            .iter()
            .chain(whole.iter())
            .map(|c| (*c).to_owned()),
    );
    fields
}

/// The needed keys by length: a key is compared only with those of its
/// length (most keys of a record are not needed, and differ in length).
pub struct Needed {
    /// Per length: each key with its first eight bytes as a number, so a
    /// key is compared as text only with the needed key it may equal.
    by_len: Vec<Vec<(u64, String)>>,
    /// Every field (Sigma rules may read any).
    all: bool,
    /// Records with this key are read whole (a Windows event, when a
    /// Sigma rule searches all of one's data).
    whole_with: Option<&'static str>,
}

fn head(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_le_bytes(bytes)
}

impl Needed {
    pub fn new(fields: &BTreeSet<String>) -> Self {
        let mut by_len: Vec<Vec<(u64, String)>> = Vec::new();
        for f in fields {
            if by_len.len() <= f.len() {
                by_len.resize(f.len() + 1, Vec::new());
            }
            by_len[f.len()].push((head(f.as_bytes()), f.clone()));
        }
        Self {
            by_len,
            all: false,
            whole_with: None,
        }
    }

    /// Every field is needed.
    pub fn everything() -> Self {
        Self {
            by_len: Vec::new(),
            all: true,
            whole_with: None,
        }
    }

    /// Records with `key` (one of the needed) are read whole.
    pub fn whole_with(mut self, key: &'static str) -> Self {
        self.whole_with = Some(key);
        self
    }

    /// Whether a record with these keys is read whole.
    pub fn reads_whole(&self, has: impl Fn(&str) -> bool) -> bool {
        self.whole_with.is_some_and(has)
    }

    fn contains(&self, key: &str) -> bool {
        if self.all {
            return true;
        }
        let first = head(key.as_bytes());
        self.by_len
            .get(key.len())
            .is_some_and(|keys| keys.iter().any(|(h, k)| *h == first && k == key))
    }
}

/// A record's needed top-level fields, each still its raw JSON text: what
/// a scan looks at before deciding whether to build values at all.
pub struct Skimmed<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Skimmed<'a> {
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The raw JSON text of a field.
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, raw)| raw.get())
    }

    /// Each field's name and raw JSON text.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &'a str)> {
        self.fields.iter().map(|(k, raw)| (k.as_ref(), raw.get()))
    }

    /// The fields as a value the rules can read.
    pub fn into_json(self) -> Result<Json<'a>, serde_json::Error> {
        let mut map = Object::with_capacity(self.fields.len());
        for (key, raw) in self.fields {
            map.push(key, serde_json::from_str(raw.get())?);
        }
        Ok(Json::Object(map))
    }
}

struct Skim<'n> {
    needed: &'n Needed,
}

impl<'de> Visitor<'de> for Skim<'_> {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(32);
        while let Some(Key(key)) = map.next_key()? {
            if self.needed.contains(key.as_ref()) {
                out.push((key, map.next_value::<&'de RawValue>()?));
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// The needed fields of one JSON object, unparsed.
pub fn skim<'a>(text: &'a str, needed: &Needed) -> Result<Skimmed<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let fields = de.deserialize_map(Skim { needed })?;
    de.end()?;
    Ok(Skimmed { fields })
}

/// Builds the needed fields' values as it goes: for records that will be
/// read anyway, cheaper than skimming first.
struct Build<'n> {
    needed: &'n Needed,
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Object::with_capacity(32);
        while let Some(Key(key)) = map.next_key()? {
            if self.needed.contains(key.as_ref()) {
                let value: Json<'de> = map.next_value()?;
                out.push(key, value);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// The needed fields of one JSON object, as a value the rules can read.
pub fn parse<'a>(text: &'a str, needed: &Needed) -> Result<Json<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let map = de.deserialize_map(Build { needed })?;
    de.end()?;
    Ok(Json::Object(map))
}
