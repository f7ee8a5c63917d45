//! Citizen numbers at rest: encrypted (XChaCha20-Poly1305, random nonce) and found through a
//! keyed hash (BLAKE3). Both keys derive from the one configured data key.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::config::DataKey;
use crate::domain::cccd::CitizenId;

const NONCE_LEN: usize = 24;
pub const HASH_LEN: usize = 16;

/// Authenticated encryption of small secrets under a key derived from the data key:
/// `nonce || ciphertext`, a random nonce each time.
#[derive(Clone)]
pub struct Sealer {
    aead: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &DataKey, purpose: &str) -> Self {
        Self { aead: XChaCha20Poly1305::new(&blake3::derive_key(purpose, key.bytes()).into()) }
    }

    pub fn seal(&self, clear: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed =
            self.aead.encrypt(XNonce::from_slice(&nonce), clear).expect("encrypting a small secret cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// `None` when the blob was not made with this key or was changed.
    pub fn open(&self, blob: &[u8]) -> Option<Vec<u8>> {
        if blob.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        self.aead.decrypt(XNonce::from_slice(nonce), sealed).ok()
    }
}

#[derive(Clone)]
pub struct CitizenCipher {
    sealer: Sealer,
    hash_key: [u8; 32],
}

impl CitizenCipher {
    pub fn new(key: &DataKey) -> Self {
        let hash_key = blake3::derive_key("hocvuso 2026 citizen number lookup hash", key.bytes());
        Self { sealer: Sealer::new(key, "hocvuso 2026 citizen number encryption"), hash_key }
    }

    /// The lookup key: equal numbers give equal hashes, and without the data key the hash reveals nothing.
    /// 128 bits: collisions among a country's numbers are out of reach, and a smaller index is a faster one.
    pub fn hash(&self, id: &CitizenId) -> Vec<u8> {
        blake3::keyed_hash(&self.hash_key, id.expose().as_bytes()).as_bytes()[..HASH_LEN].to_vec()
    }

    /// `nonce || ciphertext`.
    pub fn encrypt(&self, id: &CitizenId) -> Vec<u8> {
        self.sealer.seal(id.expose().as_bytes())
    }

    /// `None` when the blob was not made with this key or was changed.
    pub fn decrypt(&self, blob: &[u8]) -> Option<CitizenId> {
        let clear = self.sealer.open(blob)?;
        CitizenId::parse(std::str::from_utf8(&clear).ok()?).ok()
    }
}

/// Keys for the identity layer, all derived from the data key so one secret is kept, not five.
#[derive(Clone)]
pub struct Keys {
    pub citizen: CitizenCipher,
    /// Seals the certificate signing keys at rest.
    pub signing: Sealer,
    csrf: [u8; 32],
    subject: [u8; 32],
}

impl Keys {
    pub fn new(key: &DataKey) -> Self {
        Self {
            citizen: CitizenCipher::new(key),
            signing: Sealer::new(key, "hocvuso 2026 certificate signing key sealing"),
            csrf: blake3::derive_key("hocvuso 2026 csrf token", key.bytes()),
            subject: blake3::derive_key("hocvuso 2026 identity provider subject", key.bytes()),
        }
    }

    /// The CSRF token bound to a session or pre-session secret (OWASP's HMAC token pattern).
    pub fn csrf_token(&self, seed: &str) -> String {
        hex::encode(&blake3::keyed_hash(&self.csrf, seed.as_bytes()).as_bytes()[..16])
    }

    /// VNeID's subject may itself be a citizen number, so it is kept only as a keyed hash.
    pub fn subject_hash(&self, issuer: &str, subject: &str) -> Vec<u8> {
        let mut hasher = blake3::Hasher::new_keyed(&self.subject);
        hasher.update(issuer.as_bytes()).update(b"\0").update(subject.as_bytes());
        hasher.finalize().as_bytes()[..HASH_LEN].to_vec()
    }
}

/// 256 random bits as hex: session tokens, OIDC state.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The unkeyed hash under which a bearer token is stored: a leaked table holds no live token.
/// 128 bits of BLAKE3 in hex: content addresses and version fingerprints (not secrets).
pub fn short_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..32].to_owned()
}

pub fn token_hash(token: &str) -> Vec<u8> {
    blake3::hash(token.as_bytes()).as_bytes().to_vec()
}

/// Compares secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let cipher = CitizenCipher::new(&DataKey::generate());
        let id = CitizenId::parse("025090123456").unwrap();
        let blob = cipher.encrypt(&id);
        assert_eq!(cipher.decrypt(&blob), Some(id));
        assert!(!blob.windows(12).any(|w| w == b"025090123456"));
        let mut bad = blob.clone();
        bad[30] ^= 1;
        assert_eq!(cipher.decrypt(&bad), None);
        assert_eq!(cipher.hash(&id), cipher.hash(&id));
        let other = CitizenCipher::new(&DataKey::generate());
        assert_ne!(other.hash(&id), cipher.hash(&id));
        assert_eq!(other.decrypt(&blob), None);
    }
}
