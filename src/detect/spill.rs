//! Facts a join must keep until the end of a scan, written out when they
//! outgrow memory. Blocks are sealed with ChaCha20-Poly1305 under a key
//! made for this scan and held only in memory, in an anonymous temporary
//! file that the system removes when the scan ends, however it ends: no
//! part of the case reaches the disk in plaintext, and nothing is left
//! behind.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use chacha20poly1305::aead::{Aead, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use zeroize::Zeroizing;

/// Where one sealed block lies in the file.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    offset: u64,
    len: u32,
    /// The block's number, which is also its nonce: each is sealed once.
    number: u64,
}

pub struct Spill {
    file: File,
    cipher: ChaCha20Poly1305,
    end: u64,
    blocks: u64,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Spill({} blocks, {} bytes)", self.blocks, self.end)
    }
}

impl Spill {
    pub fn new() -> io::Result<Self> {
        let file = tempfile::tempfile()?;
        let key = ChaCha20Poly1305::generate_key(&mut OsRng);
        Ok(Self {
            file,
            cipher: ChaCha20Poly1305::new(&key),
            end: 0,
            blocks: 0,
        })
    }

    fn nonce(number: u64) -> Nonce {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&number.to_le_bytes());
        nonce.into()
    }

    /// Seals `plain` and appends it.
    pub fn write(&mut self, plain: &[u8]) -> io::Result<Block> {
        let number = self.blocks;
        let sealed = self
            .cipher
            .encrypt(&Self::nonce(number), plain)
            .map_err(|_| io::Error::other("sealing a block failed"))?;
        let len =
            u32::try_from(sealed.len()).map_err(|_| io::Error::other("a block over 4 GiB"))?;
        self.file.write_all_at(&sealed, self.end)?;
        let block = Block {
            offset: self.end,
            len,
            number,
        };
        self.end += u64::from(len);
        self.blocks += 1;
        Ok(block)
    }

    /// A block written before, opened.
    pub fn read(&self, block: Block) -> io::Result<Zeroizing<Vec<u8>>> {
        let mut sealed = vec![0u8; block.len as usize];
        self.file.read_exact_at(&mut sealed, block.offset)?;
        self.cipher
            .decrypt(&Self::nonce(block.number), sealed.as_slice())
            .map(Zeroizing::new)
            .map_err(|_| io::Error::other("a spilled block does not open (the file was changed)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_back_as_written_and_are_not_on_disk_in_plaintext() {
        let mut spill = Spill::new().unwrap();
        let a = spill
            .write(b"megan.bowen@contoso.com 203.0.113.66")
            .unwrap();
        let b = spill.write(&[7u8; 100_000]).unwrap();
        assert_eq!(&spill.read(b).unwrap()[..], &[7u8; 100_000][..]);
        assert_eq!(
            &spill.read(a).unwrap()[..],
            b"megan.bowen@contoso.com 203.0.113.66"
        );
        let mut raw = vec![0u8; a.len as usize];
        spill.file.read_exact_at(&mut raw, a.offset).unwrap();
        assert!(!raw.windows(11).any(|w| w == b"megan.bowen"));
        // A changed byte is found, not read as something else.
        spill.file.write_all_at(&[raw[0] ^ 1], a.offset).unwrap();
        assert!(spill.read(a).is_err());
    }
}
