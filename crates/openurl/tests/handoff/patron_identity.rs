//! Patron identity: tokens from the institution's IdP (RS256 and ES256, PEM and JWKS keys) and the
//! patron id encrypted for Relais' `base64PI`. Keys are test-only, generated with openssl (see ../keys/).
//! Tokens are signed, and the patron id decrypted, with aws-lc-rs: a second implementation, so the bridge's
//! own (ring and rsa) is checked against it rather than against itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openurl::identity::{
    IdentityConfigError, JwtVerifier, RelaisPiEncryptor, TokenError, VerifiedPatron, relais_timestamp,
};
use openurl::{PatronTag, RelaisForm, parse, unauthorized_page};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.edu/realms/library";
const AUDIENCE: &str = "alma-relais-bridge";
const IDP_RSA_PRIVATE: &str = include_str!("../keys/idp_rsa_private.pem");
const IDP_RSA_PUBLIC: &str = include_str!("../keys/idp_rsa_public.pem");
const IDP_EC_PRIVATE: &str = include_str!("../keys/idp_ec_private.pem");
const IDP_EC_PUBLIC: &str = include_str!("../keys/idp_ec_public.pem");
const IDP_EC_PUBLIC_COMPRESSED: &str = include_str!("../keys/idp_ec_public_compressed.pem");
const IDP_JWKS: &str = include_str!("../keys/idp_jwks.json");
const IMPOSTOR_RSA_PRIVATE: &str = include_str!("../keys/impostor_rsa_private.pem");
const RELAIS_PRIVATE: &str = include_str!("../keys/relais_private.pem");
const RELAIS_PUBLIC: &str = include_str!("../keys/relais_public.pem");
const RELAIS_PUBLIC_PKCS1: &str = include_str!("../keys/relais_public_pkcs1.pem");
const WEAK_RSA_PUBLIC: &str = include_str!("../keys/weak_rsa_public.pem");

/// 2024-05-01 12:00:00 UTC, the "now" of every check.
const NOW: u64 = 1_714_564_800;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn claims(patron: &str) -> Value {
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": patron, "iat": NOW - 30, "exp": NOW + 300 })
}

/// A compact JWS (RFC 7515 §7.1): `base64url(header).base64url(claims).base64url(signature)`.
fn jws(alg: &str, kid: Option<&str>, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn rs256(claims: &Value, private_pem: &str, kid: Option<&str>) -> String {
    let key = RsaKeyPair::from_pkcs8(&pem_der(private_pem)).unwrap();
    jws("RS256", kid, claims, |input| {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input, &mut signature).unwrap();
        signature
    })
}

fn es256(claims: &Value, kid: Option<&str>) -> String {
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pem_der(IDP_EC_PRIVATE)).unwrap();
    jws("ES256", kid, claims, |input| key.sign(&SystemRandom::new(), input).unwrap().as_ref().to_vec())
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    jws("HS256", None, claims, |input| aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec())
}

fn pem_verifier() -> JwtVerifier {
    JwtVerifier::from_pem(ISSUER, AUDIENCE, IDP_RSA_PUBLIC).unwrap()
}

#[test]
fn a_valid_rs256_token_names_the_patron() {
    let token = rs256(&claims("2900123"), IDP_RSA_PRIVATE, None);
    assert_eq!(pem_verifier().verify(&token, now()).unwrap().as_str(), "2900123");
}

#[test]
fn a_valid_es256_token_verifies_against_a_pem_and_a_jwks_key() {
    let token = es256(&claims("2900124"), Some("idp-ec-2024"));
    let from_pem = JwtVerifier::from_pem(ISSUER, AUDIENCE, IDP_EC_PUBLIC).unwrap();
    assert_eq!(from_pem.verify(&token, now()).unwrap().as_str(), "2900124");
    let from_jwks = JwtVerifier::from_jwks(ISSUER, AUDIENCE, IDP_JWKS).unwrap();
    assert_eq!(from_jwks.verify(&token, now()).unwrap().as_str(), "2900124");
}

#[test]
fn jwks_keys_are_chosen_by_kid_and_encryption_keys_are_ignored() {
    let verifier = JwtVerifier::from_jwks(ISSUER, AUDIENCE, IDP_JWKS).unwrap();
    let token = rs256(&claims("2900125"), IDP_RSA_PRIVATE, Some("idp-rsa-2024"));
    assert_eq!(verifier.verify(&token, now()).unwrap().as_str(), "2900125");
    // The encryption-only entry was skipped, so its kid is unknown: the signing keys of the token's
    // algorithm are tried instead, and the signature still has to match one of them.
    let token = rs256(&claims("2900125"), IDP_RSA_PRIVATE, Some("idp-enc-2024"));
    assert_eq!(verifier.verify(&token, now()), Ok(VerifiedPatron::new("2900125").unwrap()));
    let forged = rs256(&claims("2900125"), IMPOSTOR_RSA_PRIVATE, Some("idp-rsa-2024"));
    assert_eq!(verifier.verify(&forged, now()), Err(TokenError::BadSignature));
}

#[test]
fn an_expired_token_is_refused_after_the_leeway() {
    let mut c = claims("2900123");
    c["exp"] = json!(NOW - 30);
    let token = rs256(&c, IDP_RSA_PRIVATE, None);
    assert!(pem_verifier().verify(&token, now()).is_ok(), "30 s late is inside the 60 s leeway");
    c["exp"] = json!(NOW - 61);
    let token = rs256(&c, IDP_RSA_PRIVATE, None);
    assert_eq!(pem_verifier().verify(&token, now()), Err(TokenError::Expired));
    let strict = pem_verifier().with_leeway(Duration::ZERO);
    c["exp"] = json!(NOW - 1);
    assert_eq!(strict.verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::Expired));
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::Expired));
}

#[test]
fn a_token_from_the_future_is_refused() {
    let mut c = claims("2900123");
    c["nbf"] = json!(NOW + 120);
    assert_eq!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::NotYetValid));
    c["nbf"] = json!(NOW + 30);
    assert!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()).is_ok());
}

#[test]
fn wrong_audience_or_issuer_is_refused() {
    let mut c = claims("2900123");
    c["aud"] = json!("some-other-app");
    assert_eq!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::WrongAudience));
    c["aud"] = json!(["some-other-app", AUDIENCE]);
    assert!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()).is_ok(), "one of several audiences");
    let mut c = claims("2900123");
    c["iss"] = json!("https://evil.example/");
    assert_eq!(pem_verifier().verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::WrongIssuer));
}

#[test]
fn a_bad_signature_or_a_tampered_payload_is_refused() {
    let forged = rs256(&claims("2900123"), IMPOSTOR_RSA_PRIVATE, None);
    assert_eq!(pem_verifier().verify(&forged, now()), Err(TokenError::BadSignature));

    let genuine = rs256(&claims("2900123"), IDP_RSA_PRIVATE, None);
    let parts: Vec<&str> = genuine.split('.').collect();
    let other_payload = rs256(&claims("0000001"), IMPOSTOR_RSA_PRIVATE, None);
    let tampered = format!("{}.{}.{}", parts[0], other_payload.split('.').nth(1).unwrap(), parts[2]);
    assert_eq!(pem_verifier().verify(&tampered, now()), Err(TokenError::BadSignature));
}

#[test]
fn unsigned_symmetric_and_garbage_tokens_are_refused() {
    let symmetric = hs256(&claims("2900123"), b"k");
    assert_eq!(pem_verifier().verify(&symmetric, now()), Err(TokenError::UnsupportedAlgorithm));
    let none_alg = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("2900123").to_string())
    );
    assert!(pem_verifier().verify(&none_alg, now()).is_err());
    assert_eq!(pem_verifier().verify("not.a.jwt", now()), Err(TokenError::Malformed));
    assert_eq!(pem_verifier().verify("  ", now()), Err(TokenError::Missing));
    // An ES256 token against an RSA-only configuration names no usable key.
    assert_eq!(pem_verifier().verify(&es256(&claims("1"), None), now()), Err(TokenError::UnknownKey));
}

#[test]
fn the_patron_id_may_come_from_another_claim_and_must_be_usable() {
    let mut c = claims("someone@example.edu");
    c["employeeNumber"] = json!(2900777);
    let verifier = pem_verifier().with_patron_claim("employeeNumber");
    assert_eq!(verifier.verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()).unwrap().as_str(), "2900777");
    let missing = pem_verifier().with_patron_claim("barcode");
    assert_eq!(missing.verify(&rs256(&c, IDP_RSA_PRIVATE, None), now()), Err(TokenError::MissingPatronId));
    let piped = rs256(&claims("29|00123"), IDP_RSA_PRIVATE, None);
    assert_eq!(pem_verifier().verify(&piped, now()), Err(TokenError::BadPatronId));
}

#[test]
fn verifier_configuration_is_checked() {
    assert_eq!(
        JwtVerifier::from_pem("", AUDIENCE, IDP_RSA_PUBLIC).unwrap_err(),
        IdentityConfigError::MissingIssuerOrAudience
    );
    assert!(matches!(JwtVerifier::from_pem(ISSUER, AUDIENCE, "not a key"), Err(IdentityConfigError::BadPem(_))));
    assert!(matches!(JwtVerifier::from_jwks(ISSUER, AUDIENCE, "{"), Err(IdentityConfigError::BadJwks(_))));
    assert_eq!(
        JwtVerifier::from_jwks(ISSUER, AUDIENCE, r#"{"keys":[]}"#).unwrap_err(),
        IdentityConfigError::NoUsableKey
    );
}

#[test]
fn an_idp_key_in_a_form_that_cannot_check_tokens_stops_start_up_rather_than_every_patron() {
    // A PKCS#1 `RSA PUBLIC KEY` is read as well as an X.509 `PUBLIC KEY`.
    let pkcs1 = JwtVerifier::from_pem(ISSUER, AUDIENCE, RELAIS_PUBLIC_PKCS1).unwrap();
    assert_eq!(pkcs1.verify(&rs256(&claims("2900126"), RELAIS_PRIVATE, None), now()).unwrap().as_str(), "2900126");
    // A 1024-bit RSA key and a compressed P-256 point are refused when loaded.
    assert!(matches!(JwtVerifier::from_pem(ISSUER, AUDIENCE, WEAK_RSA_PUBLIC), Err(IdentityConfigError::BadPem(_))));
    assert!(matches!(
        JwtVerifier::from_pem(ISSUER, AUDIENCE, IDP_EC_PUBLIC_COMPRESSED),
        Err(IdentityConfigError::BadPem(_))
    ));
    // In a key set such keys are passed over, like encryption keys; a set of nothing else has no usable key.
    let short_y = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "kid": "short",
        "x": URL_SAFE_NO_PAD.encode([7u8; 32]), "y": URL_SAFE_NO_PAD.encode([7u8; 31]),
    }] });
    assert_eq!(
        JwtVerifier::from_jwks(ISSUER, AUDIENCE, &short_y.to_string()).unwrap_err(),
        IdentityConfigError::NoUsableKey
    );
}

#[test]
fn an_invalid_token_renders_the_401_page() {
    let page = unauthorized_page(&TokenError::Expired);
    assert!(page.contains("<h1>Please sign in again</h1>"));
    assert!(page.contains("Your sign-in could not be confirmed: the sign-in token has expired."));
    assert_eq!(TokenError::Expired.http_status(), 401);
}

fn relais_private_key() -> Pkcs1PrivateDecryptingKey {
    Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&pem_der(RELAIS_PRIVATE)).unwrap()).unwrap()
}

fn decrypt(tag: &PatronTag) -> String {
    let PatronTag::Encrypted(text) = tag else { panic!("expected an encrypted tag, got {tag:?}") };
    let ciphertext = STANDARD.decode(text).unwrap();
    let key = relais_private_key();
    let mut out = vec![0; key.min_output_size()];
    String::from_utf8(key.decrypt(&ciphertext, &mut out).unwrap().to_vec()).unwrap()
}

#[test]
fn base64pi_decrypts_to_id_bar_utc_timestamp() {
    let encryptor = RelaisPiEncryptor::from_pem(RELAIS_PUBLIC).unwrap();
    let patron = VerifiedPatron::new("2900123").unwrap();
    let tag = encryptor.encrypt(&patron, now()).unwrap();
    assert_eq!(decrypt(&tag), "2900123|20240501 120000");
    assert_eq!(relais_timestamp(now() + Duration::from_secs(3661)), "20240501 130101");
}

#[test]
fn base64pi_works_with_a_pkcs1_public_key_and_is_fresh_each_time() {
    let encryptor = RelaisPiEncryptor::from_pem(RELAIS_PUBLIC_PKCS1).unwrap();
    let patron = VerifiedPatron::new("B-77 ünï").unwrap();
    let first = encryptor.encrypt(&patron, now()).unwrap();
    let second = encryptor.encrypt(&patron, now()).unwrap();
    assert_ne!(first, second, "PKCS#1 v1.5 padding is random");
    assert_eq!(decrypt(&first), "B-77 ünï|20240501 120000");
    assert_eq!(decrypt(&second), "B-77 ünï|20240501 120000");
}

#[test]
fn weak_or_wrong_relais_keys_are_refused() {
    assert_eq!(RelaisPiEncryptor::from_pem(WEAK_RSA_PUBLIC).unwrap_err(), IdentityConfigError::KeyTooSmall);
    assert!(matches!(RelaisPiEncryptor::from_pem(RELAIS_PRIVATE), Err(IdentityConfigError::BadPem(_))));
    assert!(matches!(RelaisPiEncryptor::from_pem(IDP_EC_PUBLIC), Err(IdentityConfigError::BadPem(_))));
}

#[test]
fn token_to_encrypted_redirect_end_to_end() {
    let token = rs256(&claims("2900123"), IDP_RSA_PRIVATE, None);
    let patron = pem_verifier().verify(&token, now()).unwrap();
    let tag = RelaisPiEncryptor::from_pem(RELAIS_PUBLIC).unwrap().encrypt(&patron, now()).unwrap();
    let form = RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").unwrap();
    let url = form.redirect_url(&parse("rft.genre=book&rft.btitle=Dune&PI=attacker").unwrap(), Some(&tag));
    let PatronTag::Encrypted(text) = &tag else { unreachable!() };
    let encoded: String = text.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    assert_eq!(
        url,
        format!(
            "https://relais.example.edu/user/login.html?group=patron&LS=EXU&dest=discovery&PI={encoded}\
             &base64PI=true&genre=book&rft.genre=book&rft.title=Dune&rft.btitle=Dune"
        )
    );
    assert_eq!(decrypt(&tag), "2900123|20240501 120000");
}
