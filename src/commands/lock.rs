//! `warroom lock`: drop every cached secret from the kernel keyring now.

/// Drops every secret warroom keeps in the kernel keyring.
/// `warroom lock`.
pub fn run() -> anyhow::Result<u8> {
    super::join_session_keyring();
    lock()
}

fn lock() -> anyhow::Result<u8> {
    let cache = match crate::keyring::Cache::open() {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!("warroom lock: {e}; warroom keeps nothing in it here.");
            return Ok(0);
        }
    };
    match cache.remove_all() {
        Ok(n) => {
            eprintln!(
                "warroom lock: dropped {n} cached secret{} (sign-ins, case keys) from the kernel keyring.",
                if n == 1 { "" } else { "s" }
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom lock: {e}");
            Ok(1)
        }
    }
}
