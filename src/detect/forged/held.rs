//! Federated sign-ins as the join keeps them until the end of a scan:
//! small (names by number, a GUID id as a number), and written out to the
//! sealed spill file past `SPILL_AT`, so memory stays flat however many a
//! scan reads.

use std::collections::HashMap;

use crate::detect::record_id::RecordId;
use crate::detect::spill::{Block, Spill};

/// A federated sign-in. Every one is kept (an AD FS log later in the
/// input may explain it).
#[derive(Clone, Debug)]
pub(super) struct SignIn {
    pub(super) user: u32,
    pub(super) upn: u32,
    pub(super) ip: u32,
    /// The token's issuer as Entra ID recorded it (`tokenIssuerName`).
    pub(super) issuer: u32,
    pub(super) time: i64,
    pub(super) id: RecordId,
}

/// Sign-ins held in memory before they are written out (about 1 MiB).
pub(super) const SPILL_AT: usize = 1 << 14;

/// Written-out sign-ins are sorted by user into this many parts, and read
/// back one part at a time: a user's sign-ins are all in one part.
pub(super) const PARTS: usize = 16;

impl SignIn {
    pub(super) fn part(&self) -> usize {
        self.user as usize % PARTS
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        for n in [self.user, self.upn, self.ip, self.issuer] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.time.to_le_bytes());
        match &self.id {
            RecordId::Guid(n) => {
                out.push(0);
                out.extend_from_slice(&n.to_le_bytes());
            }
            RecordId::Text(t) => {
                out.push(1);
                out.extend_from_slice(&(t.len() as u32).to_le_bytes());
                out.extend_from_slice(t.as_bytes());
            }
        }
    }

    /// The next sign-in `encode` wrote, moving past it.
    pub(super) fn decode(bytes: &mut &[u8]) -> Option<Self> {
        fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
            let (head, rest) = bytes.split_at_checked(n)?;
            *bytes = rest;
            Some(head)
        }
        let u32_at = |b: &mut &[u8]| Some(u32::from_le_bytes(take(b, 4)?.try_into().ok()?));
        let user = u32_at(bytes)?;
        let upn = u32_at(bytes)?;
        let ip = u32_at(bytes)?;
        let issuer = u32_at(bytes)?;
        let time = i64::from_le_bytes(take(bytes, 8)?.try_into().ok()?);
        let id = match take(bytes, 1)?[0] {
            0 => RecordId::Guid(u128::from_le_bytes(take(bytes, 16)?.try_into().ok()?)),
            _ => {
                let len = u32_at(bytes)? as usize;
                let text = std::str::from_utf8(take(bytes, len)?).ok()?;
                RecordId::Text(text.into())
            }
        };
        Some(Self {
            user,
            upn,
            ip,
            issuer,
            time,
            id,
        })
    }
}

/// Sign-ins written out, part by part.
#[derive(Debug)]
pub(super) struct Spilled {
    pub(super) spill: Spill,
    /// Per part: its blocks, and how many sign-ins they hold.
    pub(super) parts: Vec<(Vec<Block>, u64)>,
}

/// One part's written-out sign-ins.
pub(super) fn read_part(spill: &Spill, blocks: &[Block]) -> Result<Vec<SignIn>, String> {
    let mut out = Vec::new();
    for block in blocks {
        let plain = spill.read(*block).map_err(|e| e.to_string())?;
        let mut rest: &[u8] = &plain;
        while !rest.is_empty() {
            let signin = SignIn::decode(&mut rest)
                .ok_or_else(|| "a spilled block does not decode".to_owned())?;
            out.push(signin);
        }
    }
    Ok(out)
}

/// Each distinct text once (users, names, addresses repeat across
/// sign-ins), by number.
#[derive(Debug, Default)]
pub(super) struct Names {
    texts: Vec<String>,
    numbers: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Names {
    pub(super) fn number(&mut self, text: String) -> u32 {
        if let Some(n) = self.numbers.get(&text) {
            return *n;
        }
        let n = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.clone());
        self.numbers.insert(text, n);
        n
    }

    pub(super) fn text(&self, n: u32) -> &str {
        self.texts.get(n as usize).map_or("", String::as_str)
    }
}
