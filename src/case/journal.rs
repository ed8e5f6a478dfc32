//! The journal: an append-only file of encrypted records, each bound to all
//! records before it.
//!
//! A frame is `length (u32 LE) ‖ seq (u64 LE) ‖ nonce (12 bytes) ‖
//! ciphertext`, where `length` counts everything after itself. Records are
//! sealed with ChaCha20-Poly1305 under the case's data key, with the case
//! id, the sequence number and the chain hash of everything before as
//! associated data. The chain hash is `h(n) = SHA-256(h(n-1) ‖ frame n)`.
//! So a flipped byte, a deleted, reordered or duplicated record makes that
//! record (and every later one) fail to open, and `verify` names the first.
//! A frame cut short by a crash can only be the last one: it is a torn
//! tail, reported as such and set aside before the next append.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CaseError;
use super::store::{FileLock, sync_dir};

/// The case's data key.
pub type DataKey = Zeroizing<[u8; 32]>;

const LENGTH: usize = 4;
const SEQ: usize = 8;
const NONCE: usize = 12;
const TAG: usize = 16;
/// No record is anywhere near this; a larger length is damage.
const MAX_BODY: usize = 64 << 20;

/// The chain hash before the first record.
pub fn genesis(case_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"warroom journal v1\0");
    h.update(case_id.as_bytes());
    h.finalize().into()
}

/// The chain hash after `frame`.
pub fn chain(previous: &[u8; 32], frame: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(previous);
    h.update(frame);
    h.finalize().into()
}

fn associated(case_id: &str, seq: u64, previous: &[u8; 32]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(case_id.len() + 40);
    aad.extend_from_slice(case_id.as_bytes());
    aad.extend_from_slice(&seq.to_le_bytes());
    aad.extend_from_slice(previous);
    aad
}

/// The AEAD for the case's data key (journal records and event segments).
pub(crate) fn cipher_for(key: &DataKey) -> ChaCha20Poly1305 {
    let bytes: &[u8; 32] = key;
    ChaCha20Poly1305::new(bytes.into())
}

/// Seals one record as a frame.
pub fn seal(
    key: &DataKey,
    case_id: &str,
    seq: u64,
    previous: &[u8; 32],
    plaintext: &[u8],
) -> Result<Vec<u8>, CaseError> {
    let cipher = cipher_for(key);
    let mut nonce = [0u8; NONCE];
    getrandom(&mut nonce)?;
    let aad = associated(case_id, seq, previous);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| CaseError::Io("encryption failed".into()))?;
    let body_len = SEQ + NONCE + sealed.len();
    let mut frame = Vec::with_capacity(LENGTH + body_len);
    frame.extend_from_slice(&(body_len as u32).to_le_bytes());
    frame.extend_from_slice(&seq.to_le_bytes());
    frame.extend_from_slice(&nonce);
    frame.extend_from_slice(&sealed);
    Ok(frame)
}

pub fn getrandom(buf: &mut [u8]) -> Result<(), CaseError> {
    use chacha20poly1305::aead::OsRng;
    use chacha20poly1305::aead::rand_core::RngCore;
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| CaseError::Io(format!("no randomness from the system: {e}")))
}

/// The first record that does not open, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Position of the record in the journal (1 = first).
    pub record: u64,
    pub offset: u64,
    pub reason: String,
}

/// What reading a journal found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every record that opened, in order: (seq, plaintext).
    pub records: Vec<(u64, Zeroizing<Vec<u8>>)>,
    /// Bytes after the last whole frame: a write cut short.
    pub torn: Option<(u64, u64)>,
    /// A whole frame that does not open: the journal was altered.
    pub damage: Option<Damage>,
    /// Where the last whole, valid frame ends.
    pub end: u64,
    /// Whole, valid frames (records) before `end`.
    pub count: u64,
    pub chain: [u8; 32],
}

/// Reads every frame; decrypts them when `key` is given (else only walks
/// the frames and the chain).
pub fn scan(bytes: &[u8], case_id: &str, key: Option<&DataKey>) -> Scan {
    let cipher = key.map(cipher_for);
    let mut out = Scan {
        chain: genesis(case_id),
        ..Scan::default()
    };
    let mut at = 0usize;
    let mut expected = 1u64;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let damage = |reason: String| Damage {
            record: expected,
            offset: at as u64,
            reason,
        };
        if rest.len() < LENGTH {
            out.torn = Some((at as u64, rest.len() as u64));
            break;
        }
        let body_len = u32::from_le_bytes(rest[..LENGTH].try_into().expect("4 bytes")) as usize;
        if !(SEQ + NONCE + TAG..=MAX_BODY).contains(&body_len) {
            out.damage = Some(damage(format!("impossible record length {body_len}")));
            break;
        }
        if rest.len() < LENGTH + body_len {
            // Only the last frame can be short; it was being written.
            out.torn = Some((at as u64, rest.len() as u64));
            break;
        }
        let frame = &rest[..LENGTH + body_len];
        let seq = u64::from_le_bytes(frame[LENGTH..LENGTH + SEQ].try_into().expect("8 bytes"));
        if seq != expected {
            out.damage = Some(damage(format!(
                "record number {seq} where {expected} belongs (records deleted, reordered or repeated)"
            )));
            break;
        }
        if let Some(cipher) = &cipher {
            let nonce = &frame[LENGTH + SEQ..LENGTH + SEQ + NONCE];
            let aad = associated(case_id, seq, &out.chain);
            match cipher.decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: &frame[LENGTH + SEQ + NONCE..],
                    aad: &aad,
                },
            ) {
                Ok(plain) => out.records.push((seq, Zeroizing::new(plain))),
                Err(_) => {
                    out.damage = Some(damage(
                        "does not open: altered, or not in its place in the chain".into(),
                    ));
                    break;
                }
            }
        }
        out.chain = chain(&out.chain, frame);
        at += frame.len();
        out.end = at as u64;
        out.count = expected;
        expected += 1;
    }
    out
}

/// The journal file, opened for appending.
pub struct Writer {
    path: PathBuf,
    file: File,
}

impl Writer {
    pub fn open(path: &Path) -> Result<Self, CaseError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| CaseError::Io(format!("{}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends records (sealed in order) durably; returns their sequence
    /// numbers. A torn tail left by a crash is moved aside first; a damaged
    /// journal is refused.
    pub fn append(
        &mut self,
        key: &DataKey,
        case_id: &str,
        plaintexts: &[&[u8]],
    ) -> Result<Vec<u64>, CaseError> {
        let io = |e: std::io::Error| CaseError::Io(format!("{}: {e}", self.path.display()));
        let _lock = FileLock::exclusive(&self.file).map_err(io)?;
        // A change of recipients replaces the journal while we waited.
        if std::os::unix::fs::MetadataExt::nlink(&self.file.metadata().map_err(io)?) == 0 {
            return Err(CaseError::Io(
                "the case changed who can read it while this was being saved; nothing was written, run the command again".into(),
            ));
        }
        let mut bytes = Vec::new();
        (&self.file).seek(SeekFrom::Start(0)).map_err(io)?;
        (&self.file).read_to_end(&mut bytes).map_err(io)?;
        // Decrypting as well as walking: nothing is appended to a journal
        // that was altered.
        let scan = scan(&bytes, case_id, Some(key));
        if let Some(damage) = scan.damage {
            return Err(CaseError::Damaged(damage));
        }
        if let Some((offset, len)) = scan.torn {
            set_aside(&self.path, &bytes[offset as usize..]).map_err(io)?;
            self.file.set_len(offset).map_err(io)?;
            self.file.sync_all().map_err(io)?;
            eprintln!(
                "warroom: the journal ended in a record cut short ({len} bytes, a crash during a write); it was set aside and every earlier record is intact"
            );
        }
        let mut previous = scan.chain;
        let mut seq = scan.count;
        let mut frames = Vec::new();
        let mut seqs = Vec::new();
        for plain in plaintexts {
            seq += 1;
            let frame = seal(key, case_id, seq, &previous, plain)?;
            previous = chain(&previous, &frame);
            frames.extend_from_slice(&frame);
            seqs.push(seq);
        }
        (&self.file).seek(SeekFrom::Start(scan.end)).map_err(io)?;
        (&self.file).write_all(&frames).map_err(io)?;
        // Durable before anyone is told "saved".
        self.file.sync_data().map_err(io)?;
        Ok(seqs)
    }
}

/// Keeps a torn tail's bytes (ciphertext) beside the journal.
fn set_aside(journal: &Path, tail: &[u8]) -> std::io::Result<()> {
    let stamp = jiff::Timestamp::now().as_second();
    let aside = journal.with_extension(format!("torn-{stamp}"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&aside)?;
    file.write_all(tail)?;
    file.sync_all()?;
    sync_dir(&aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        Zeroizing::new([7u8; 32])
    }

    fn journal(n: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut previous = genesis("case");
        for i in 1..=n {
            let frame = seal(
                &key(),
                "case",
                i as u64,
                &previous,
                format!("record {i}").as_bytes(),
            )
            .unwrap();
            previous = chain(&previous, &frame);
            bytes.extend_from_slice(&frame);
        }
        bytes
    }

    fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            out.push(bytes[at..at + 4 + len].to_vec());
            at += 4 + len;
        }
        out
    }

    #[test]
    fn round_trip() {
        let scan = scan(&journal(5), "case", Some(&key()));
        assert_eq!(scan.records.len(), 5);
        assert_eq!(scan.records[4].1.as_slice(), b"record 5");
        assert!(scan.torn.is_none() && scan.damage.is_none());
    }

    #[test]
    fn every_kind_of_tampering_is_caught_at_its_record() {
        let good = journal(6);
        let parts = frames(&good);
        // A flipped byte inside record 3's ciphertext.
        let mut flipped = good.clone();
        let at = parts[..2].iter().map(Vec::len).sum::<usize>() + 30;
        flipped[at] ^= 1;
        // Record 3 deleted, records 3 and 4 swapped, record 3 repeated.
        let deleted: Vec<u8> = [&parts[..2], &parts[3..]].concat().concat();
        let mut swapped = parts.clone();
        swapped.swap(2, 3);
        let mut repeated = parts.clone();
        repeated.insert(3, parts[2].clone());
        // (what, bytes, the first record that must be reported bad)
        for (what, bytes, bad) in [
            ("flipped", flipped, 3),
            ("deleted", deleted, 3),
            ("swapped", swapped.concat(), 3),
            // The copy sits at position 4, after the genuine record 3.
            ("repeated", repeated.concat(), 4),
        ] {
            let scan = scan(&bytes, "case", Some(&key()));
            let damage = scan.damage.unwrap_or_else(|| panic!("{what} not caught"));
            assert_eq!(damage.record, bad, "{what}: {damage:?}");
            assert_eq!(scan.records.len() as u64, bad - 1, "{what}");
        }
        // Re-sealed with the right number but after a deletion: the chain
        // still catches it.
        let mut previous = genesis("case");
        let mut forged = Vec::new();
        for (i, text) in [(1u64, "a"), (2, "b")] {
            let frame = seal(&key(), "case", i, &previous, text.as_bytes()).unwrap();
            if i == 1 {
                previous = chain(&previous, &frame);
                forged.extend_from_slice(&frame);
            } else {
                // Sealed as if record 1 were different.
                let frame = seal(&key(), "case", 2, &genesis("other"), text.as_bytes()).unwrap();
                forged.extend_from_slice(&frame);
            }
        }
        assert_eq!(
            scan(&forged, "case", Some(&key())).damage.unwrap().record,
            2
        );
        // Another case's records do not open here.
        assert!(scan(&good, "other", Some(&key())).damage.is_some());
    }

    #[test]
    fn a_cut_short_last_record_is_a_torn_tail() {
        let good = journal(4);
        let cut = &good[..good.len() - 5];
        let scan = scan(cut, "case", Some(&key()));
        assert_eq!(scan.records.len(), 3);
        assert!(scan.damage.is_none());
        assert!(scan.torn.is_some());
    }

    #[test]
    fn appends_continue_the_chain_and_set_torn_tails_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal");
        std::fs::write(&path, b"").unwrap();
        let mut w = Writer::open(&path).unwrap();
        assert_eq!(
            w.append(&key(), "case", &[b"one", b"two"]).unwrap(),
            vec![1, 2]
        );
        // A crash mid-write leaves half a frame.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&journal(3)[..20]);
        std::fs::write(&path, &bytes).unwrap();
        let mut w = Writer::open(&path).unwrap();
        assert_eq!(w.append(&key(), "case", &[b"three"]).unwrap(), vec![3]);
        let scan = scan(&std::fs::read(&path).unwrap(), "case", Some(&key()));
        let texts: Vec<&[u8]> = scan.records.iter().map(|(_, p)| p.as_slice()).collect();
        assert_eq!(texts, vec![&b"one"[..], b"two", b"three"]);
        assert!(scan.torn.is_none());
        assert!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .any(|e| { e.unwrap().file_name().to_string_lossy().contains("torn-") })
        );
    }
}
