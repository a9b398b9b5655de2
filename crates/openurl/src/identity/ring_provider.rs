//! jsonwebtoken's cryptography on ring, limited to what the bridge accepts: RS256 and ES256 signature
//! checks. ring is already in every function as the TLS provider, and it verifies exactly these two
//! (PKCS#1 v1.5 with SHA-256 for 2048–8192-bit keys; ECDSA P-256 with SHA-256 in the JWS fixed-length
//! form, RFC 7518 §3.3–3.4), so the OpenURL function carries one crypto library instead of a second
//! (the size saved is in docs/benchmarks.md).
//!
//! Nothing here signs: the bridge only checks the IdP's tokens. Every other algorithm, and every request
//! to sign, is answered with an error (never a panic), and [`super::JwtVerifier`] refuses such tokens
//! before they reach the library anyway.

use super::pem::{modulus_bits, rsa_key_bits};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature::{Error as SignatureError, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey};

/// The provider [`install`] makes the process default.
static RING_VERIFY_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key: |_, _| Err(unsupported()),
        compute_digest: digest,
    },
};

/// Makes the ring provider jsonwebtoken's process default. Built without a provider feature, the library
/// has none until one is installed; a second call (another verifier, a test) finds it in place.
pub(crate) fn install() {
    if RING_VERIFY_ONLY.install_default().is_err() {
        // Only this module installs a provider today. Were another one first (a dependency turning on a
        // provider feature of jsonwebtoken's), tokens would still be checked, by that library: say so.
        let ours = CryptoProvider::try_get_default().is_some_and(|p| std::ptr::eq(p, &RING_VERIFY_ONLY));
        if !ours {
            tracing::warn!("another jsonwebtoken crypto provider was installed first; tokens are checked by it");
        }
    }
}

/// Why ring could not check signatures with `key` for `algorithm`, found when the key is loaded so that a
/// key in a form ring does not read stops start-up instead of refusing every patron's token: RSA keys of
/// 2048 to 8192 bits (ring's range), P-256 keys as an uncompressed point.
pub(crate) fn unusable(algorithm: Algorithm, key: &DecodingKey) -> Option<String> {
    match (algorithm, key.kind()) {
        (Algorithm::RS256, DecodingKeyKind::SecretOrDer(der)) => match rsa_key_bits(der) {
            Ok(bits) => rsa_size_problem(bits),
            Err(problem) => Some(problem),
        },
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, .. }) => rsa_size_problem(modulus_bits(n)),
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) if point.len() == 65 && point[0] == 0x04 => None,
        (Algorithm::ES256, _) => Some("not an uncompressed P-256 point".to_owned()),
        (other, _) => Some(format!("{other:?} is not accepted")),
    }
}

fn rsa_size_problem(bits: u32) -> Option<String> {
    (!(2048..=8192).contains(&bits)).then(|| format!("an RSA key of {bits} bits (2048 to 8192 are accepted)"))
}

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Err(unsupported())
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let family = match algorithm {
        Algorithm::RS256 => AlgorithmFamily::Rsa,
        Algorithm::ES256 => AlgorithmFamily::Ec,
        _ => return Err(unsupported()),
    };
    if key.family() != family {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier { algorithm: *algorithm, key: key.clone() }))
}

fn digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

/// One key, checked for one of the two algorithms.
struct RingVerifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), SignatureError> {
        let checked = match (self.algorithm, self.key.kind()) {
            // A PEM key reaches here as the PKCS#1 RSAPublicKey jsonwebtoken takes out of it.
            (Algorithm::RS256, DecodingKeyKind::SecretOrDer(der)) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(message, signature)
            }
            // A JWKS key arrives as its modulus and exponent.
            (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            }
            // An EC key, from PEM or JWKS, is the uncompressed point (0x04 ‖ x ‖ y).
            (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
            _ => Err(ring::error::Unspecified),
        };
        checked.map_err(|_| SignatureError::new())
    }
}
