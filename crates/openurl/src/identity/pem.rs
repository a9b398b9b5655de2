//! Just enough PEM (RFC 7468) to load the public key Relais hands out: its label, which says how the DER
//! inside is to be read, and the text between the BEGIN/END lines as bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One PEM block: its label ("PUBLIC KEY", "RSA PUBLIC KEY") and DER contents.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

pub(crate) fn first_block(text: &str) -> Result<PemBlock, String> {
    let begin = text.find("-----BEGIN ").ok_or("no -----BEGIN line")?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or("unterminated BEGIN line")?;
    let label = after_begin[..label_end].trim().to_owned();
    let body_start = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_start.find(&end_marker).ok_or("no matching END line")?;
    let body: String = body_start[..body_end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(body).map_err(|e| format!("bad base64: {e}"))?;
    Ok(PemBlock { label, der })
}

/// The length in bits of the modulus of a PKCS#1 `RSAPublicKey` (RFC 8017 Appendix A.1.1).
pub(crate) fn rsa_key_bits(pkcs1: &[u8]) -> Result<u32, String> {
    use rsa::pkcs1::RsaPublicKeyRef;
    use rsa::pkcs1::der::Decode;
    let key = RsaPublicKeyRef::from_der(pkcs1).map_err(|e| format!("not an RSA public key ({e})"))?;
    Ok(modulus_bits(key.modulus.as_bytes()))
}

/// The bit length of a big-endian unsigned integer (an RSA modulus as DER or JWK carries it).
pub(crate) fn modulus_bits(be: &[u8]) -> u32 {
    let significant = be.iter().skip_while(|b| **b == 0).count();
    let Some(first) = be.iter().find(|b| **b != 0) else { return 0 };
    significant as u32 * 8 - first.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_length_counts_significant_bits() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0x00]), 0);
    }

    #[test]
    fn pem_block_label_and_body() {
        let block = first_block("junk\n-----BEGIN TEST KEY-----\nAAEC\nAw==\n-----END TEST KEY-----\n").unwrap();
        assert_eq!(block.label, "TEST KEY");
        assert_eq!(block.der, [0, 1, 2, 3]);
        assert!(first_block("-----BEGIN A-----\nAAEC\n-----END B-----").is_err());
    }
}
