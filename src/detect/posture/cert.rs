//! What a federation signing certificate says about itself: subject,
//! issuer and validity, read from the base64 DER Graph returns. A blob
//! that is not a certificate (truncated in documentation, tampered) is
//! reported as unreadable, never guessed at.

use base64::Engine;
use jiff::Timestamp;
use x509_cert::der::Decode;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// SHA-1 of the DER, upper-case hex: the thumbprint AD FS and
    /// PowerShell show.
    pub thumbprint: String,
}

impl CertFacts {
    /// How long the certificate is valid for, in days.
    pub fn lifetime_days(&self) -> i64 {
        (self.not_after.as_second() - self.not_before.as_second()) / 86_400
    }
}

/// Reads a base64 (standard or URL-safe, with or without padding) DER
/// certificate.
pub fn read(base64_der: &str) -> Result<CertFacts, String> {
    let text: String = base64_der.split_whitespace().collect();
    if text.is_empty() {
        return Err("no certificate".into());
    }
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let der = engines
        .iter()
        .find_map(|e| e.decode(&text).ok())
        .ok_or("not base64 (cut short or damaged)")?;
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| format!("not an X.509 certificate ({e})"))?;
    let tbs = &cert.tbs_certificate;
    let time = |t: x509_cert::time::Time| {
        Timestamp::from_second(t.to_unix_duration().as_secs() as i64).unwrap_or(Timestamp::MIN)
    };
    Ok(CertFacts {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before: time(tbs.validity.not_before),
        not_after: time(tbs.validity.not_after),
        thumbprint: sha1_hex(&der),
    })
}

fn sha1_hex(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    crate::model::hex(digest.as_ref()).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_certificate_is_read_and_a_truncated_one_refused() {
        let pem = include_str!("../../../tests/fixtures/responder-test-cert.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let facts = read(&body).expect("the test certificate reads");
        assert!(facts.subject.contains("CN="), "{facts:?}");
        assert!(facts.not_after > facts.not_before);
        assert_eq!(facts.thumbprint.len(), 40);
        // The documentation's sample is cut short.
        assert!(read("MIIE3jCCAsagAwIBAgIQQcyDaZz3MI").is_err());
        assert!(read("").is_err());
        assert!(read("!!!").is_err());
    }
}
