//! Pulled events, kept in the case: batches of Graph JSON, compressed
//! (LZ4) and sealed under the case's data key, one file per batch in
//! `events.GEN/`. Each file is bound into the journal by a record naming
//! it with its SHA-256, so a segment deleted or swapped is caught by
//! `verify` like any altered record.

use std::path::{Path, PathBuf};

use chacha20poly1305::Nonce;
use chacha20poly1305::aead::{Aead, Payload};
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CaseError;
use super::journal::{DataKey, cipher_for, getrandom};

const NONCE: usize = 12;

pub fn dir(case_dir: &Path, generation: u32) -> PathBuf {
    case_dir.join(format!("events.{generation}"))
}

fn associated(case_id: &str, name: &str) -> Vec<u8> {
    format!("{case_id}\0events\0{name}").into_bytes()
}

pub fn hash(bytes: &[u8]) -> String {
    crate::model::hex(&Sha256::digest(bytes))
}

/// Seals a batch: NDJSON, compressed, encrypted. The file's name is part
/// of what is authenticated, so segments cannot trade places.
pub fn seal(
    key: &DataKey,
    case_id: &str,
    name: &str,
    events: &[Value],
) -> Result<Vec<u8>, CaseError> {
    let mut ndjson = Zeroizing::new(Vec::new());
    for event in events {
        serde_json::to_writer(&mut *ndjson, event).expect("JSON values serialize");
        ndjson.push(b'\n');
    }
    let packed = Zeroizing::new(lz4_flex::compress_prepend_size(&ndjson));
    let mut nonce = [0u8; NONCE];
    getrandom(&mut nonce)?;
    let sealed = cipher_for(key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &packed,
                aad: &associated(case_id, name),
            },
        )
        .map_err(|_| CaseError::Io("encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a segment back into its events.
pub fn open(
    key: &DataKey,
    case_id: &str,
    name: &str,
    bytes: &[u8],
) -> Result<Vec<Value>, CaseError> {
    let bad = |why: &str| CaseError::Invalid(format!("event segment {name}: {why}"));
    if bytes.len() < NONCE {
        return Err(bad("too short"));
    }
    let packed = Zeroizing::new(
        cipher_for(key)
            .decrypt(
                Nonce::from_slice(&bytes[..NONCE]),
                Payload {
                    msg: &bytes[NONCE..],
                    aad: &associated(case_id, name),
                },
            )
            .map_err(|_| bad("does not open (altered, or not this case's)"))?,
    );
    let ndjson = Zeroizing::new(
        lz4_flex::decompress_size_prepended(&packed).map_err(|e| bad(&e.to_string()))?,
    );
    ndjson
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).map_err(|e| bad(&e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_cannot_trade_places() {
        let key: DataKey = Zeroizing::new([3u8; 32]);
        let events = vec![
            serde_json::json!({"id": "a", "userPrincipalName": "adele@contoso.com"}),
            serde_json::json!({"id": "b", "ipAddress": "185.220.101.7"}),
        ];
        let sealed = seal(&key, "case", "000001.seg", &events).unwrap();
        assert_eq!(open(&key, "case", "000001.seg", &sealed).unwrap(), events);
        assert!(open(&key, "case", "000002.seg", &sealed).is_err());
        assert!(open(&key, "other", "000001.seg", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(open(&key, "case", "000001.seg", &flipped).is_err());
        assert!(!String::from_utf8_lossy(&sealed).contains("adele"));
    }
}
