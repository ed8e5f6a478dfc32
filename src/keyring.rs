//! Secrets cached for the login session in the kernel keyring (keyutils):
//! it works over SSH on a headless jump box, keeps secrets out of files,
//! and expires them by itself.
//!
//! Each key is added to this process's session keyring and linked into
//! the user's persistent keyring, which is where the next warroom process
//! finds it. An SSH login without `pam_keyinit` only has the per-user
//! default session keyring, where adding keys is refused; so a process
//! that caches joins a fresh session keyring first ([`join_fresh_session`]),
//! before any other thread starts.

use std::time::Duration;

use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};
use zeroize::Zeroizing;

/// Every warroom key's description starts with this.
pub const PREFIX: &str = "warroom:";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("the kernel keyring is not usable here ({0})")]
    Unavailable(String),
    #[error("the kernel keyring refused to {action}: {error}")]
    Refused { action: &'static str, error: String },
}

/// Gives this process a fresh, empty session keyring of its own (the
/// persistent keyring is linked in by [`Cache::open`]). Call before other
/// threads start: the kernel changes only the calling thread's keyrings.
pub fn join_fresh_session() -> Result<(), KeyringError> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no pointers to
    // memory of ours; a NULL name asks for a new anonymous keyring.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if rc < 0 {
        return Err(KeyringError::Unavailable(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    Ok(())
}

/// The user's persistent keyring, reached through this process's session.
pub struct Cache {
    session: KeyRing,
    persistent: KeyRing,
}

fn refused(action: &'static str) -> impl FnOnce(KeyError) -> KeyringError {
    move |e| KeyringError::Refused {
        action,
        error: e.to_string(),
    }
}

impl Cache {
    pub fn open() -> Result<Self, KeyringError> {
        // For machines where secrets must not outlive the process.
        if std::env::var_os("WARROOM_NO_KEYRING").is_some_and(|v| !v.is_empty()) {
            return Err(KeyringError::Unavailable(
                "turned off by WARROOM_NO_KEYRING".into(),
            ));
        }
        let session = KeyRing::from_special_id(KeyRingIdentifier::Session, true)
            .map_err(|e| KeyringError::Unavailable(format!("no session keyring: {e}")))?;
        let persistent = KeyRing::get_persistent(KeyRingIdentifier::Session).map_err(|e| {
            KeyringError::Unavailable(format!(
                "no persistent keyring ({e}); the kernel needs CONFIG_PERSISTENT_KEYRINGS"
            ))
        })?;
        Ok(Self {
            session,
            persistent,
        })
    }

    /// Stores `secret` under `name` (replacing what was there) until `ttl`
    /// has passed.
    pub fn store(&self, name: &str, secret: &[u8], ttl: Duration) -> Result<(), KeyringError> {
        let description = format!("{PREFIX}{name}");
        // One key per name: an older one in the persistent keyring goes.
        self.remove(name)?;
        let key = self
            .session
            .add_key(&description, secret)
            .map_err(refused("store a key"))?;
        let secs = usize::try_from(ttl.as_secs().max(1)).unwrap_or(usize::MAX);
        key.set_timeout(secs)
            .map_err(refused("set a key's expiry"))?;
        self.persistent
            .link_key(key)
            .map_err(refused("link a key into the persistent keyring"))
    }

    /// The secret stored under `name`, unless it expired or was dropped.
    pub fn load(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeyringError> {
        let description = format!("{PREFIX}{name}");
        match self.persistent.search(&description) {
            Ok(key) => match key.read_to_vec() {
                Ok(secret) => Ok(Some(Zeroizing::new(secret))),
                Err(e) if gone(&e) => Ok(None),
                Err(e) => Err(refused("read a key")(e)),
            },
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(refused("search the persistent keyring")(e)),
        }
    }

    /// Drops the key stored under `name`; says whether there was one.
    pub fn remove(&self, name: &str) -> Result<bool, KeyringError> {
        let description = format!("{PREFIX}{name}");
        let mut removed = false;
        // Repeated: a key may be linked more than once.
        while let Ok(key) = self.persistent.search(&description) {
            key.invalidate().map_err(refused("drop a key"))?;
            removed = true;
        }
        Ok(removed)
    }

    /// Drops every warroom key in the persistent keyring; returns how many.
    pub fn remove_all(&self) -> Result<usize, KeyringError> {
        let links = self
            .persistent
            .get_links(4096)
            .map_err(refused("list the persistent keyring"))?;
        let mut removed = 0;
        for key in links.iter().filter_map(|node| node.as_key()) {
            let Ok(meta) = key.metadata() else { continue };
            if meta.get_description().starts_with(PREFIX) {
                key.invalidate().map_err(refused("drop a key"))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Errors that mean "no such secret (any more)".
fn gone(e: &KeyError) -> bool {
    matches!(
        e,
        KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_load_expire_and_remove() {
        let Ok(cache) = Cache::open() else {
            // No keyring on this machine (containers without keyctl);
            // CI runs with WARROOM_REQUIRE_TOOLS=1 and must have one.
            assert!(
                std::env::var_os("WARROOM_REQUIRE_TOOLS").is_none(),
                "the kernel keyring is not usable"
            );
            return;
        };
        let name = format!("test:{}", fastrand::u64(..));
        cache
            .store(&name, b"first", Duration::from_secs(60))
            .unwrap();
        cache
            .store(&name, b"second", Duration::from_secs(60))
            .unwrap();
        assert_eq!(cache.load(&name).unwrap().unwrap().as_slice(), b"second");
        // Another handle (as another process would open it) finds it.
        let again = Cache::open().unwrap();
        assert_eq!(again.load(&name).unwrap().unwrap().as_slice(), b"second");
        assert!(cache.remove(&name).unwrap());
        assert!(cache.load(&name).unwrap().is_none());
        assert!(!cache.remove(&name).unwrap());

        cache
            .store(&name, b"short", Duration::from_secs(1))
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            cache.load(&name).unwrap().is_none(),
            "expired key still read"
        );
    }
}
