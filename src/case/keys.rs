//! Who can open a case: recipients (age X25519 keys, SSH public keys) and
//! this responder's identity (an age identity file, an SSH private key, or
//! an age identity protected by a passphrase, whose unlocked text is kept in
//! the kernel keyring for a shift).

use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::CaseError;

/// Asks on the terminal, without echo.
pub fn ask_passphrase(prompt: &str) -> Option<SecretString> {
    rpassword::prompt_password(prompt)
        .ok()
        .map(SecretString::from)
}

/// A recipient as the team wrote it, and as age uses it.
pub struct Recipient {
    /// `age1…` or `ssh-ed25519 AAAA… comment`, as given.
    pub text: String,
    pub key: Box<dyn age::Recipient + Send + Sync>,
}

impl Recipient {
    pub fn parse(text: &str) -> Result<Self, CaseError> {
        let text = text.trim();
        let key: Box<dyn age::Recipient + Send + Sync> = if text.starts_with("age1") {
            Box::new(age::x25519::Recipient::from_str(text).map_err(|e| {
                CaseError::Key(format!("\"{}\" is not an age public key: {e}", short(text)))
            })?)
        } else if text.starts_with("ssh-") {
            Box::new(age::ssh::Recipient::from_str(text).map_err(|e| {
                CaseError::Key(format!(
                    "\"{}\" is not a usable SSH public key ({e:?}); ssh-ed25519 and ssh-rsa work",
                    short(text)
                ))
            })?)
        } else {
            return Err(CaseError::Key(format!(
                "\"{}\" is neither an age public key (age1…) nor an SSH public key line (ssh-ed25519 …, ssh-rsa …)",
                short(text)
            )));
        };
        // The comment of an SSH key line is kept: it says whose key it is.
        Ok(Self {
            text: text.to_owned(),
            key,
        })
    }
}

fn short(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    let cut = crate::model::SafeText::new(&cut).to_string();
    if text.chars().count() > 40 {
        format!("{cut}…")
    } else {
        cut
    }
}

/// This responder's identity, unlocked.
pub struct Identity {
    pub path: PathBuf,
    pub keys: Vec<Box<dyn age::Identity + Send + Sync>>,
    /// The public keys that go with it (what `case new` encrypts to when no
    /// recipient is named).
    pub public: Vec<String>,
}

/// Where the identity is: the flag, `WARROOM_IDENTITY`, then the default
/// file in the data directory.
pub fn identity_path(flag: Option<&Path>, env: Option<&Path>, data_dir: &Path) -> PathBuf {
    flag.or(env)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("identity.age"))
}

/// Reads the identity at `path`. A passphrase-protected one is taken from
/// the keyring cache when unlocked earlier, else `ask` is asked for the
/// passphrase (and the unlocked text cached for `ttl`).
pub fn load_identity(
    path: &Path,
    ask: &dyn Fn(&str) -> Option<SecretString>,
    ttl: Duration,
) -> Result<Identity, CaseError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        CaseError::Key(format!(
            "cannot read the identity {}: {e}; create one with `age-keygen -o FILE` (and `chmod 600 FILE`) and pass it with --identity or WARROOM_IDENTITY",
            path.display()
        ))
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(CaseError::Key(format!(
            "the identity {} can be read by other users; run `chmod 600 {}` first",
            path.display(),
            path.display()
        )));
    }
    let bytes = Zeroizing::new(
        std::fs::read(path)
            .map_err(|e| CaseError::Key(format!("cannot read {}: {e}", path.display())))?,
    );
    let head = &bytes[..bytes.len().min(64)];
    if head.starts_with(b"age-encryption.org/") || head.starts_with(b"-----BEGIN AGE ENCRYPTED") {
        let text = unlock(path, &bytes, ask, ttl)?;
        return from_text(path, &text);
    }
    if head.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY") || head.starts_with(b"-----BEGIN RSA") {
        let name = path.display().to_string();
        let ssh = age::ssh::Identity::from_buffer(BufReader::new(&bytes[..]), Some(name))
            .map_err(|e| CaseError::Key(format!("{}: {e}", path.display())))?;
        if matches!(ssh, age::ssh::Identity::Encrypted(_)) {
            return Err(CaseError::Key(format!(
                "{} is a passphrase-protected SSH key; use an unprotected copy or an age identity",
                path.display()
            )));
        }
        let public = std::fs::read_to_string(path.with_extension("pub"))
            .ok()
            .map(|p| p.trim().to_owned())
            .into_iter()
            .collect();
        return Ok(Identity {
            path: path.to_path_buf(),
            keys: vec![Box::new(ssh.with_callbacks(age::NoCallbacks))],
            public,
        });
    }
    let text = Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(|_| {
        CaseError::Key(format!(
            "{} is neither an age identity nor an SSH private key",
            path.display()
        ))
    })?);
    from_text(path, &text)
}

/// Parses identity text (`AGE-SECRET-KEY-1…` lines).
fn from_text(path: &Path, text: &str) -> Result<Identity, CaseError> {
    let file = age::IdentityFile::from_buffer(BufReader::new(text.as_bytes()))
        .map_err(|e| CaseError::Key(format!("{}: {e}", path.display())))?;
    let keys = file
        .into_identities()
        .map_err(|e| CaseError::Key(format!("{}: {e}", path.display())))?;
    if keys.is_empty() {
        return Err(CaseError::Key(format!(
            "{} holds no identity",
            path.display()
        )));
    }
    let public = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        .filter_map(|l| age::x25519::Identity::from_str(l).ok())
        .map(|i| i.to_public().to_string())
        .collect();
    Ok(Identity {
        path: path.to_path_buf(),
        keys,
        public,
    })
}

fn cache_name(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("identity:{}", path.display())
}

/// The plaintext of a passphrase-protected identity.
fn unlock(
    path: &Path,
    bytes: &[u8],
    ask: &dyn Fn(&str) -> Option<SecretString>,
    ttl: Duration,
) -> Result<Zeroizing<String>, CaseError> {
    let cache = crate::keyring::Cache::open();
    let name = cache_name(path);
    if let Ok(cache) = &cache
        && let Ok(Some(text)) = cache.load(&name)
        && let Ok(text) = String::from_utf8(text.to_vec())
    {
        return Ok(Zeroizing::new(text));
    }
    if let Err(e) = &cache {
        // Said once, so the person knows why they are asked every time.
        eprintln!("warroom: {e}; the passphrase is asked each time");
    }
    // A mistyped passphrase is asked again, as sudo and ssh do.
    let mut attempts = PASSPHRASE_ATTEMPTS;
    let text = loop {
        let passphrase = ask(&format!("Passphrase for {}: ", path.display())).ok_or_else(|| {
            CaseError::Key(format!(
                "{} is protected by a passphrase and there is no terminal to ask for it",
                path.display()
            ))
        })?;
        attempts -= 1;
        match decrypt_with_passphrase(bytes, passphrase) {
            Ok(text) => break text,
            Err(e) if e == WRONG_PASSPHRASE && attempts > 0 => {
                eprintln!("warroom: {e}; try again ({attempts} left)");
            }
            Err(e) => return Err(CaseError::Key(format!("{}: {e}", path.display()))),
        }
    };
    if let Ok(cache) = &cache
        && let Err(e) = cache.store(&name, text.as_bytes(), ttl)
    {
        eprintln!("warroom: the unlocked identity is not cached: {e}");
    }
    Ok(text)
}

/// How many passphrases are tried before giving up.
const PASSPHRASE_ATTEMPTS: u32 = 3;
const WRONG_PASSPHRASE: &str = "wrong passphrase";

fn decrypt_with_passphrase(
    bytes: &[u8],
    passphrase: SecretString,
) -> Result<Zeroizing<String>, String> {
    use std::io::Read;
    let reader = age::armor::ArmoredReader::new(bytes);
    let decryptor = age::Decryptor::new(reader).map_err(|e| e.to_string())?;
    let identity = age::scrypt::Identity::new(passphrase);
    let mut out = Zeroizing::new(Vec::new());
    decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                WRONG_PASSPHRASE.to_owned()
            }
            other => other.to_string(),
        })?
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    String::from_utf8(out.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| "the protected file does not hold identity text".to_owned())
}

/// Writes a new identity protected by `passphrase` at `path` (0600) and
/// returns its public key.
pub fn create_identity(path: &Path, passphrase: SecretString) -> Result<String, CaseError> {
    use std::io::Write;
    if path.exists() {
        return Err(CaseError::Key(format!(
            "{} already exists; an identity is never overwritten",
            path.display()
        )));
    }
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = Zeroizing::new(format!(
        "# created by warroom\n# public key: {public}\n{}\n",
        age::secrecy::ExposeSecret::expose_secret(&identity.to_string())
    ));
    let encryptor = age::Encryptor::with_user_passphrase(passphrase);
    let mut sealed = Vec::new();
    let mut writer = encryptor.wrap_output(age::armor::ArmoredWriter::wrap_output(
        &mut sealed,
        age::armor::Format::AsciiArmor,
    )?)?;
    writer.write_all(text.as_bytes())?;
    writer.finish()?.finish()?;
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    super::store::write_new_private(path, &sealed)?;
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_checked() {
        let id = age::x25519::Identity::generate();
        assert!(Recipient::parse(&id.to_public().to_string()).is_ok());
        let err = Recipient::parse("bob@example.com")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("neither an age public key"), "{err}");
        assert!(Recipient::parse("age1notakey").is_err());
    }
}
