//! Cookies the patron's browser carries but cannot read or alter: the citation across the sign-in's round
//! trip, and the signed-in session. Each value is sealed with AES-256-GCM (ring) under a key derived from
//! the configured cookie secret and the cookie's purpose, so a sign-in cookie can never be replayed as a
//! session, and the bridge keeps no state of its own. A value sealed under the previous secret still opens
//! during a rotation; once that secret is deleted, its cookies are refused and the patron signs in again.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// What a sealed value is for: part of the key derivation and of the authenticated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookiePurpose {
    /// The citation, PKCE verifier and nonce between the redirect to the provider and its callback.
    SignIn,
    /// The signed-in patron's session.
    Session,
}

impl CookiePurpose {
    fn label(self) -> &'static [u8] {
        match self {
            CookiePurpose::SignIn => b"alma-relais-bridge sign-in cookie v1",
            CookiePurpose::Session => b"alma-relais-bridge session cookie v1",
        }
    }
}

/// The keys cookies are sealed and opened with: the current secret's, and the previous one's during a
/// rotation.
pub struct CookieKeys {
    current: [LessSafeKey; 2],
    previous: Option<[LessSafeKey; 2]>,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieKeys").field("previous", &self.previous.is_some()).finish_non_exhaustive()
    }
}

/// The longest sealed value accepted, in characters: browsers keep about 4 KB per cookie.
pub const MAX_SEALED_LEN: usize = 4000;

impl CookieKeys {
    /// Keys from the current secret and, during a rotation, the previous one.
    pub fn new(current: &str, previous: Option<&str>) -> Self {
        Self { current: derive(current), previous: previous.filter(|p| !p.is_empty()).map(derive) }
    }

    /// `plaintext` sealed for `purpose`, as a cookie-safe value (base64url).
    pub fn seal(&self, purpose: CookiePurpose, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("the system random generator");
        let mut buffer = plaintext.to_vec();
        let key = &self.current[purpose as usize];
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose.label()), &mut buffer)
            .expect("AES-GCM seals any length a cookie holds");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The plaintext of a value sealed for `purpose` under the current or the previous secret; `None` for
    /// anything else (altered, another purpose's, a deleted secret's, or not ours at all).
    pub fn open(&self, purpose: CookiePurpose, value: &str) -> Option<Vec<u8>> {
        if value.len() > MAX_SEALED_LEN {
            return None;
        }
        let sealed = URL_SAFE_NO_PAD.decode(value.trim()).ok()?;
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let keys = std::iter::once(&self.current).chain(self.previous.as_ref());
        keys.into_iter().find_map(|keys| {
            let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
            let mut buffer = ciphertext.to_vec();
            let plain = keys[purpose as usize].open_in_place(nonce, Aad::from(purpose.label()), &mut buffer).ok()?;
            Some(plain.to_vec())
        })
    }
}

/// One AES-256 key per purpose: HMAC-SHA-256 of the purpose's label under the secret (a PRF, as HKDF's
/// expand step uses it, RFC 5869 §2.3).
fn derive(secret: &str) -> [LessSafeKey; 2] {
    let prk = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    [CookiePurpose::SignIn, CookiePurpose::Session].map(|purpose| {
        let tag = hmac::sign(&prk, purpose.label());
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, tag.as_ref()).expect("32 bytes for AES-256"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_for_its_purpose_and_unaltered() {
        let keys = CookieKeys::new("cookie-secret-0123456789abcdef-0123", None);
        let sealed = keys.seal(CookiePurpose::Session, b"patron1");
        assert_eq!(keys.open(CookiePurpose::Session, &sealed).as_deref(), Some(&b"patron1"[..]));
        assert_eq!(keys.open(CookiePurpose::SignIn, &sealed), None, "a session is no sign-in cookie");
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(keys.open(CookiePurpose::Session, &URL_SAFE_NO_PAD.encode(bytes)), None);
        assert_eq!(keys.open(CookiePurpose::Session, "not sealed"), None);
    }

    #[test]
    fn the_previous_secret_opens_until_it_is_deleted() {
        let old = CookieKeys::new("the-old-cookie-secret-0123456789abcdef", None);
        let sealed = old.seal(CookiePurpose::Session, b"patron1");
        let rotating =
            CookieKeys::new("the-new-cookie-secret-0123456789abcdef", Some("the-old-cookie-secret-0123456789abcdef"));
        assert!(rotating.open(CookiePurpose::Session, &sealed).is_some());
        let rotated = CookieKeys::new("the-new-cookie-secret-0123456789abcdef", None);
        assert_eq!(rotated.open(CookiePurpose::Session, &sealed), None);
    }
}
