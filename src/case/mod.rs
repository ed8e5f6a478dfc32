//! The encrypted case: where the team's truth lives.
//!
//! A case is a private directory under `$XDG_DATA_HOME/warroom/cases/NAME`:
//!
//! - `case.json`: plaintext header (format, case id, name, generation, the
//!   recipients' public keys) so anyone can see who can read it;
//! - `key.GEN.age`: the case's data key, age-encrypted to the recipients
//!   (readable with the `age` tool and a recipient's identity);
//! - `journal.GEN`: the append-only journal of records sealed under that
//!   key (see `journal`).
//!
//! Changing who can read the case writes a new generation and switches the
//! header to it in one rename; removing someone also replaces the data key
//! and re-seals every record, so the removed key opens nothing new.

pub mod events;
pub mod export;
pub mod journal;
pub mod keys;
pub mod record;
pub mod store;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use journal::{Damage, DataKey};
use keys::{Identity, Recipient};
use record::{Body, Record};

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Unsafe(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the journal is damaged at record {} (byte {}): {}; every record before it is intact",
        .0.record, .0.offset, .0.reason
    )]
    Damaged(Damage),
}

impl From<std::io::Error> for CaseError {
    fn from(e: std::io::Error) -> Self {
        CaseError::Io(e.to_string())
    }
}

const FORMAT: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub id: String,
    pub name: String,
    pub created: String,
    pub generation: u32,
    pub recipients: Vec<String>,
}

/// A case found by `Case::list`, or its name and why it cannot be opened.
pub type Listed = Result<Case, (String, CaseError)>;

pub struct Case {
    pub dir: PathBuf,
    pub header: Header,
}

/// Case names are directory names: letters, digits, `.`, `_`, `-`.
fn check_name(name: &str) -> Result<(), CaseError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CaseError::Invalid(format!(
            "\"{}\" is not a case name: use up to 64 letters, digits, '.', '_' or '-'",
            crate::model::SafeText::new(name)
        )))
    }
}

fn seal_key(key: &DataKey, recipients: &[Recipient]) -> Result<Vec<u8>, CaseError> {
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r.key.as_ref() as _))
        .map_err(|e| CaseError::Key(format!("cannot encrypt to these recipients: {e}")))?;
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(key.as_ref())?;
    writer.finish()?;
    Ok(out)
}

impl Case {
    pub fn root(data_dir: &Path) -> PathBuf {
        data_dir.join("cases")
    }

    fn header_path(&self) -> PathBuf {
        self.dir.join("case.json")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(format!("journal.{}", self.header.generation))
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join(format!("key.{}.age", self.header.generation))
    }

    /// Creates a case readable by `recipients`, its journal opened by a
    /// first record.
    pub fn create(
        data_dir: &Path,
        name: &str,
        recipients: Vec<Recipient>,
    ) -> Result<Case, CaseError> {
        check_name(name)?;
        if recipients.is_empty() {
            return Err(CaseError::Key(
                "a case needs at least one recipient (--recipient age1… or an SSH public key)"
                    .into(),
            ));
        }
        let root = Self::root(data_dir);
        crate::paths::ensure_private_dir(&root)?;
        let dir = root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(CaseError::Invalid(format!(
                    "a case named {name} already exists ({})",
                    dir.display()
                )));
            }
            Err(e) => return Err(CaseError::Io(format!("{}: {e}", dir.display()))),
        }
        crate::paths::ensure_private_dir(&dir)?;
        let mut id = [0u8; 16];
        journal::getrandom(&mut id)?;
        let header = Header {
            format: FORMAT,
            id: crate::model::hex(&id),
            name: name.to_owned(),
            created: crate::model::de::graph_time(jiff::Timestamp::now()),
            generation: 1,
            recipients: recipients.iter().map(|r| r.text.clone()).collect(),
        };
        let case = Case { dir, header };
        let mut key = Zeroizing::new([0u8; 32]);
        journal::getrandom(key.as_mut())?;
        store::write_new_private(&case.key_path(), &seal_key(&key, &recipients)?)?;
        store::write_new_private(&case.journal_path(), &[])?;
        let unlocked = Unlocked { case, key };
        unlocked.append(Body::CaseOpened {
            name: name.to_owned(),
        })?;
        // The header last: a case without one was never finished.
        let text = serde_json::to_vec_pretty(&unlocked.case.header).expect("header serializes");
        store::write_new_private(&unlocked.case.header_path(), &text)?;
        Ok(unlocked.case)
    }

    /// Opens the case named `name`, refusing one others can read or write.
    pub fn find(data_dir: &Path, name: &str) -> Result<Case, CaseError> {
        check_name(name)?;
        let dir = Self::root(data_dir).join(name);
        if !dir.exists() {
            return Err(CaseError::Invalid(format!(
                "no case named {name} (`warroom case list` shows the cases here)"
            )));
        }
        store::check_private(&dir)?;
        let header_path = dir.join("case.json");
        store::check_private(&header_path)?;
        let text = std::fs::read(&header_path)
            .map_err(|e| CaseError::Io(format!("{}: {e}", header_path.display())))?;
        let header: Header = serde_json::from_slice(&text).map_err(|e| {
            CaseError::Invalid(format!(
                "{}: not a case header ({e})",
                header_path.display()
            ))
        })?;
        if header.format != FORMAT {
            return Err(CaseError::Invalid(format!(
                "case {name} has format {}, this warroom reads format {FORMAT}",
                header.format
            )));
        }
        let case = Case { dir, header };
        for path in [case.key_path(), case.journal_path()] {
            store::check_private(&path)?;
        }
        Ok(case)
    }

    /// Every case under the data directory, by name.
    pub fn list(data_dir: &Path) -> Vec<Listed> {
        let root = Self::root(data_dir);
        let Ok(entries) = std::fs::read_dir(&root) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| Self::find(data_dir, &n).map_err(|e| (n, e)))
            .collect()
    }

    /// Opens the data key with this responder's identity.
    pub fn unlock(self, identity: &Identity) -> Result<Unlocked, CaseError> {
        let path = self.key_path();
        let sealed =
            std::fs::read(&path).map_err(|e| CaseError::Io(format!("{}: {e}", path.display())))?;
        let decryptor = age::Decryptor::new(&sealed[..])
            .map_err(|e| CaseError::Invalid(format!("{}: {e}", path.display())))?;
        let mut key = Zeroizing::new(Vec::new());
        decryptor
            .decrypt(identity.keys.iter().map(|k| k.as_ref() as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => CaseError::Key(format!(
                    "the identity {} is not among the recipients of case {} (`warroom case recipients list {}` shows them)",
                    identity.path.display(),
                    self.header.name,
                    self.header.name
                )),
                other => CaseError::Key(format!("{}: {other}", path.display())),
            })?
            .read_to_end(&mut key)?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| CaseError::Invalid(format!("{}: not a case key", path.display())))?;
        Ok(Unlocked {
            case: self,
            key: Zeroizing::new(key),
        })
    }
}

/// A case whose data key is open.
pub struct Unlocked {
    pub case: Case,
    key: DataKey,
}

/// Every record that opened, and what stopped the reading if anything.
pub struct Contents {
    pub records: Vec<Record>,
    /// Bytes of a record cut short by a crash, at the end.
    pub torn: Option<u64>,
    pub damage: Option<Damage>,
    /// Records whose text is not a record (written by something else).
    pub unreadable: u64,
}

impl Unlocked {
    /// Appends one record durably; returns it once it is on disk.
    pub fn append(&self, body: Body) -> Result<Record, CaseError> {
        Ok(self.append_all(vec![body])?.remove(0))
    }

    pub fn append_all(&self, bodies: Vec<Body>) -> Result<Vec<Record>, CaseError> {
        let author = record::author();
        let time = crate::model::de::graph_time(jiff::Timestamp::now());
        let records = bodies
            .into_iter()
            .map(|body| {
                Ok(Record {
                    id: record::new_id()?,
                    time: time.clone(),
                    author: author.clone(),
                    body,
                })
            })
            .collect::<Result<Vec<_>, CaseError>>()?;
        self.append_records(records)
    }

    /// Appends records as they are (ids, times and authors kept).
    pub fn append_records(&self, records: Vec<Record>) -> Result<Vec<Record>, CaseError> {
        if records.is_empty() {
            return Ok(records);
        }
        let plain: Vec<Zeroizing<Vec<u8>>> = records
            .iter()
            .map(|r| Zeroizing::new(serde_json::to_vec(r).expect("records serialize")))
            .collect();
        let slices: Vec<&[u8]> = plain.iter().map(|p| p.as_slice()).collect();
        let mut writer = journal::Writer::open(&self.case.journal_path())?;
        writer.append(&self.key, &self.case.header.id, &slices)?;
        Ok(records)
    }

    /// Keeps a batch of pulled events in the case: an encrypted segment,
    /// then the journal record that vouches for it.
    pub fn save_events(
        &self,
        stream: &str,
        batch: &[serde_json::Value],
    ) -> Result<Record, CaseError> {
        self.save_events_at(stream, batch, None)
    }

    /// Keeps a batch and, in the same record, where its stream now stands:
    /// a crash leaves both or neither. An empty batch keeps the checkpoint
    /// alone.
    pub fn save_events_at(
        &self,
        stream: &str,
        batch: &[serde_json::Value],
        checkpoint: Option<serde_json::Value>,
    ) -> Result<Record, CaseError> {
        if batch.is_empty()
            && let Some(state) = checkpoint.clone()
        {
            return self.append(Body::Checkpoint {
                stream: stream.to_owned(),
                state,
            });
        }
        let dir = events::dir(&self.case.dir, self.case.header.generation);
        crate::paths::ensure_private_dir(&dir)?;
        let sealed_for = |name: &str| events::seal(&self.key, &self.case.header.id, name, batch);
        let (name, sealed) = loop {
            let next = std::fs::read_dir(&dir)?.count() + 1;
            let name = format!("{next:06}.seg");
            let sealed = sealed_for(&name)?;
            match store::write_new_private(&dir.join(&name), &sealed) {
                Ok(()) => break (name, sealed),
                // Another writer took that number: take the next.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(CaseError::Io(format!("{}: {e}", dir.display()))),
            }
        };
        self.append(Body::Events {
            stream: stream.to_owned(),
            segment: name,
            count: batch.len() as u64,
            sha256: events::hash(&sealed),
            checkpoint,
        })
    }

    /// The events of one segment record, checked against its hash.
    pub fn load_events(&self, record: &Record) -> Result<Vec<serde_json::Value>, CaseError> {
        match &record.body {
            Body::Events {
                segment, sha256, ..
            } => self.load_segment(segment, sha256),
            _ => Ok(Vec::new()),
        }
    }

    fn load_segment(
        &self,
        segment: &str,
        sha256: &str,
    ) -> Result<Vec<serde_json::Value>, CaseError> {
        let path = events::dir(&self.case.dir, self.case.header.generation).join(segment);
        let bytes = std::fs::read(&path)
            .map_err(|e| CaseError::Invalid(format!("event segment {segment}: {e}")))?;
        if events::hash(&bytes) != sha256 {
            return Err(CaseError::Invalid(format!(
                "event segment {segment} is not the one the journal vouches for (replaced or altered)"
            )));
        }
        events::open(&self.key, &self.case.header.id, segment, &bytes)
    }

    pub fn read(&self) -> Result<Contents, CaseError> {
        let path = self.case.journal_path();
        let bytes = Zeroizing::new(
            std::fs::read(&path).map_err(|e| CaseError::Io(format!("{}: {e}", path.display())))?,
        );
        let scan = journal::scan(&bytes, &self.case.header.id, Some(&self.key));
        let mut unreadable = 0;
        let records = scan
            .records
            .iter()
            .filter_map(|(_, plain)| {
                serde_json::from_slice::<Record>(plain)
                    .inspect_err(|_| unreadable += 1)
                    .ok()
            })
            .collect();
        Ok(Contents {
            records,
            torn: scan.torn.map(|(_, len)| len),
            damage: scan.damage,
            unreadable,
        })
    }

    /// Makes the case readable by `recipients` from now on. With `rekey`
    /// (someone was removed) the data key is replaced and every record
    /// sealed again under it.
    pub fn set_recipients(
        mut self,
        recipients: Vec<Recipient>,
        rekey: bool,
    ) -> Result<Unlocked, CaseError> {
        if recipients.is_empty() {
            return Err(CaseError::Key(
                "a case must keep at least one recipient".into(),
            ));
        }
        let journal_path = self.case.journal_path();
        let old_key_path = self.case.key_path();
        let file = std::fs::File::open(&journal_path)?;
        // Writers wait while the case changes generation.
        let _lock = store::FileLock::exclusive(&file)?;
        let contents = self.read()?;
        if let Some(damage) = contents.damage {
            return Err(CaseError::Damaged(damage));
        }
        let mut key = self.key.clone();
        if rekey {
            journal::getrandom(key.as_mut())?;
        }
        let mut next = self.case.header.clone();
        next.generation += 1;
        next.recipients = recipients.iter().map(|r| r.text.clone()).collect();
        let next_case = Case {
            dir: self.case.dir.clone(),
            header: next,
        };
        // Every record, then one saying who can read the case now.
        let change = Record {
            id: record::new_id()?,
            time: crate::model::de::graph_time(jiff::Timestamp::now()),
            author: record::author(),
            body: Body::Recipients {
                recipients: next_case.header.recipients.clone(),
                rekeyed: rekey,
            },
        };
        // Event segments move to the new generation, sealed again under the
        // key in force; their records name the new hashes.
        let next_events = events::dir(&next_case.dir, next_case.header.generation);
        let _ = std::fs::remove_dir_all(&next_events);
        let mut records = contents.records.clone();
        for record in records.iter_mut() {
            let Body::Events {
                segment, sha256, ..
            } = &mut record.body
            else {
                continue;
            };
            let batch = self.load_segment(segment, sha256)?;
            crate::paths::ensure_private_dir(&next_events)?;
            let resealed = events::seal(&key, &next_case.header.id, segment, &batch)?;
            store::write_new_private(&next_events.join(&*segment), &resealed)?;
            *sha256 = events::hash(&resealed);
        }
        let old_events = events::dir(&self.case.dir, self.case.header.generation);
        let mut sealed = Vec::new();
        let mut previous = journal::genesis(&next_case.header.id);
        for (i, record) in records.iter().chain([&change]).enumerate() {
            let plain = Zeroizing::new(serde_json::to_vec(record).expect("records serialize"));
            let frame = journal::seal(&key, &next_case.header.id, i as u64 + 1, &previous, &plain)?;
            previous = journal::chain(&previous, &frame);
            sealed.extend_from_slice(&frame);
        }
        let _ = std::fs::remove_file(next_case.journal_path());
        let _ = std::fs::remove_file(next_case.key_path());
        store::write_new_private(&next_case.journal_path(), &sealed)?;
        store::write_new_private(&next_case.key_path(), &seal_key(&key, &recipients)?)?;
        // The switch: one rename.
        let text = serde_json::to_vec_pretty(&next_case.header).expect("header serializes");
        store::replace_private(&next_case.header_path(), &text)?;
        let _ = std::fs::remove_file(&journal_path);
        let _ = std::fs::remove_file(&old_key_path);
        let _ = std::fs::remove_dir_all(&old_events);
        self.case = next_case;
        self.key = key;
        Ok(self)
    }
}
