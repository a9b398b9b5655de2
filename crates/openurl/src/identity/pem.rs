//! Just enough PEM (RFC 7468) and DER to load the public key Relais hands out: the text between the
//! BEGIN/END lines as bytes, and a PKCS#1 `RSA PUBLIC KEY` wrapped as the X.509 SubjectPublicKeyInfo
//! that aws-lc-rs reads (RFC 5280 §4.1.2.7, RFC 8017 Appendix A.1.1).

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

/// `AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }`.
const RSA_ALGORITHM_IDENTIFIER: [u8; 15] =
    [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

pub(crate) fn spki_from_pkcs1(rsa_public_key: &[u8]) -> Vec<u8> {
    let mut bit_string = vec![0x03];
    push_len(&mut bit_string, rsa_public_key.len() + 1);
    bit_string.push(0x00); // no unused bits
    bit_string.extend_from_slice(rsa_public_key);

    let mut spki = vec![0x30];
    push_len(&mut spki, RSA_ALGORITHM_IDENTIFIER.len() + bit_string.len());
    spki.extend_from_slice(&RSA_ALGORITHM_IDENTIFIER);
    spki.extend_from_slice(&bit_string);
    spki
}

/// DER definite length: short form below 128, else long form with the minimal number of bytes.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_short_and_long_form() {
        let mut out = Vec::new();
        push_len(&mut out, 5);
        push_len(&mut out, 0x80);
        push_len(&mut out, 0x010e);
        assert_eq!(out, [0x05, 0x81, 0x80, 0x82, 0x01, 0x0e]);
    }

    #[test]
    fn pem_block_label_and_body() {
        let block = first_block("junk\n-----BEGIN TEST KEY-----\nAAEC\nAw==\n-----END TEST KEY-----\n").unwrap();
        assert_eq!(block.label, "TEST KEY");
        assert_eq!(block.der, [0, 1, 2, 3]);
        assert!(first_block("-----BEGIN A-----\nAAEC\n-----END B-----").is_err());
    }
}
