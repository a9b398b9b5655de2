//! The patron id encrypted for Relais, per OCLC's "Encryption" page for Relais ILL / D2D: RSA with
//! PKCS#1 v1.5 padding under the library's Relais public key (2048 bits), over the text
//! `id|yyyyMMdd HHmmss` with the current UTC time, base64-encoded. Relais accepts it for 5 minutes and
//! rejects a time in the future, so the caller passes the real clock.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::PublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1::der::Decode;
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;
use rsa::traits::PublicKeyParts;

use super::pem::{first_block, rsa_key_bits};
use super::{EncryptError, IdentityConfigError, VerifiedPatron};
use crate::relais::PatronTag;

/// The shortest Relais key accepted, in bits: Relais issues 2048-bit keys.
const MIN_KEY_BITS: u32 = 2048;

/// PKCS#1 v1.5 encryption padding takes 11 bytes of each block (RFC 8017 §7.2.1).
const PKCS1_PADDING_BYTES: usize = 11;

/// Encrypts patron ids with the configured Relais public key.
pub struct RelaisPiEncryptor {
    key: PublicKey,
}

impl std::fmt::Debug for RelaisPiEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelaisPiEncryptor").field("key_bits", &(self.key.size() * 8)).finish()
    }
}

impl RelaisPiEncryptor {
    /// Loads a PEM public key: `PUBLIC KEY` (X.509 SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(pem: &str) -> Result<Self, IdentityConfigError> {
        let block = first_block(pem).map_err(IdentityConfigError::BadPem)?;
        let pkcs1 = match block.label.as_str() {
            "PUBLIC KEY" => rsa_key_in_spki(&block.der)?,
            "RSA PUBLIC KEY" => block.der.as_slice(),
            other => {
                return Err(IdentityConfigError::BadPem(format!("expected a public key, found \"{other}\"")));
            }
        };
        // The length is checked on the DER first: the library refuses keys under 1024 bits with an error
        // that no longer says why, and those are as unusable for Relais as 1536-bit ones.
        if rsa_key_bits(pkcs1).map_err(IdentityConfigError::BadPem)? < MIN_KEY_BITS {
            return Err(IdentityConfigError::KeyTooSmall);
        }
        let key = PublicKey::from_pkcs1_der(pkcs1).map_err(|e| not_rsa(&e))?;
        Ok(Self { key })
    }

    /// `base64(RSA-PKCS1v1.5(id|yyyyMMdd HHmmss))` as the tag the redirect sends in `PI` with
    /// `base64PI=true`. Each call gives a different ciphertext (PKCS#1 v1.5 padding is random).
    pub fn encrypt(&self, patron: &VerifiedPatron, now: SystemTime) -> Result<PatronTag, EncryptError> {
        let plaintext = format!("{}|{}", patron.as_str(), relais_timestamp(now));
        if plaintext.len() > self.key.size() - PKCS1_PADDING_BYTES {
            return Err(EncryptError::TooLong);
        }
        let ciphertext = self.key.pkcs1v15_encrypt(plaintext.as_bytes()).map_err(|_| EncryptError::Crypto)?;
        Ok(PatronTag::Encrypted(STANDARD.encode(ciphertext)))
    }
}

/// The PKCS#1 `RSAPublicKey` inside an X.509 SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) whose algorithm is
/// rsaEncryption (RFC 8017 Appendix A.1).
fn rsa_key_in_spki(der: &[u8]) -> Result<&[u8], IdentityConfigError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| not_rsa(&e))?;
    if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(IdentityConfigError::BadPem(format!("not an RSA public key (algorithm {})", spki.algorithm.oid)));
    }
    spki.subject_public_key.as_bytes().ok_or_else(|| IdentityConfigError::BadPem("not an RSA public key".into()))
}

fn not_rsa(reason: &dyn std::fmt::Display) -> IdentityConfigError {
    IdentityConfigError::BadPem(format!("not an RSA public key ({reason})"))
}

/// `yyyyMMdd HHmmss` in UTC (note the space), the time format Relais checks. Times before 1970 are
/// written as 1970-01-01.
pub fn relais_timestamp(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02} {:02}{:02}{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`, restricted
/// to dates after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> String {
        relais_timestamp(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn timestamps_match_the_relais_format() {
        assert_eq!(at(0), "19700101 000000");
        assert_eq!(at(1_436_200_357), "20150706 163237");
        assert_eq!(at(951_782_400), "20000229 000000");
        assert_eq!(at(4_107_542_399), "21000228 235959");
    }
}
