//! Secrets at rest. Citizen numbers: encrypted (AES-256-GCM, synthetic nonce) and found through a
//! keyed hash (BLAKE3). Other small secrets: XChaCha20-Poly1305 with a random nonce. Every key
//! derives from the one configured data key.

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

/// Citizen numbers: AES-256-GCM under a key derived from the data key, with a synthetic nonce.
///
/// One keyed BLAKE3 of the number gives both the lookup hash (its first 16 bytes, as always) and
/// the nonce (the next 12). The nonce depends only on the number, so no count of encryptions wears
/// the key out: two different numbers share a nonce only if 96 pseudo-random bits collide (about
/// 2^-44 for 10^8 numbers). Equal numbers give equal blobs, which tells nothing the lookup hash
/// does not already tell. Opening checks the nonce against the number (as SIV does), so a blob is
/// bound to its number. Blobs are `nonce || ciphertext || tag` (40 bytes).
/// The random-nonce XChaCha20-Poly1305 used before cost half of a roster import's checking;
/// its blobs (52 bytes) still open.
#[derive(Clone)]
pub struct CitizenCipher {
    aead: ring::aead::LessSafeKey,
    legacy: Sealer,
    hash_key: [u8; 32],
}

const GCM_NONCE_LEN: usize = 12;
const CITIZEN_BLOB_LEN: usize = GCM_NONCE_LEN + crate::domain::cccd::CCCD_LEN + 16;
/// Earlier versions' XChaCha20-Poly1305 blobs: 24-byte nonce, the number, 16-byte tag.
const LEGACY_BLOB_LEN: usize = NONCE_LEN + crate::domain::cccd::CCCD_LEN + 16;

/// A citizen number as stored: the lookup hash and the encrypted number.
pub struct SealedCitizen {
    pub hash: Vec<u8>,
    pub blob: Vec<u8>,
}

impl CitizenCipher {
    pub fn new(key: &DataKey) -> Self {
        let hash_key = blake3::derive_key("hocvuso 2026 citizen number lookup hash", key.bytes());
        let aead_key = blake3::derive_key("hocvuso 2026 citizen number encryption, AES-256-GCM", key.bytes());
        let aead =
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &aead_key).expect("a 32-byte key is an AES-256 key");
        Self {
            aead: ring::aead::LessSafeKey::new(aead),
            legacy: Sealer::new(key, "hocvuso 2026 citizen number encryption"),
            hash_key,
        }
    }

    fn keyed(&self, id: &CitizenId) -> blake3::Hash {
        blake3::keyed_hash(&self.hash_key, id.expose().as_bytes())
    }

    /// The lookup key: equal numbers give equal hashes, and without the data key the hash reveals nothing.
    /// 128 bits: collisions among a country's numbers are out of reach, and a smaller index is a faster one.
    pub fn hash(&self, id: &CitizenId) -> Vec<u8> {
        self.keyed(id).as_bytes()[..HASH_LEN].to_vec()
    }

    /// The hash and the encrypted number, from one keyed hash.
    pub fn seal(&self, id: &CitizenId) -> SealedCitizen {
        let keyed = self.keyed(id);
        let (hash, rest) = keyed.as_bytes().split_at(HASH_LEN);
        let nonce: [u8; GCM_NONCE_LEN] = rest[..GCM_NONCE_LEN].try_into().expect("32 bytes hold 16 + 12");
        SealedCitizen { hash: hash.to_vec(), blob: self.seal_under(nonce, id) }
    }

    /// `nonce || ciphertext || tag` of the number under the given nonce.
    fn seal_under(&self, nonce: [u8; GCM_NONCE_LEN], id: &CitizenId) -> Vec<u8> {
        let mut blob = Vec::with_capacity(CITIZEN_BLOB_LEN);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(id.expose().as_bytes());
        let tag = self
            .aead
            .seal_in_place_separate_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                &mut blob[GCM_NONCE_LEN..],
            )
            .expect("encrypting 12 bytes cannot fail");
        blob.extend_from_slice(tag.as_ref());
        blob
    }

    /// `nonce || ciphertext || tag`.
    pub fn encrypt(&self, id: &CitizenId) -> Vec<u8> {
        self.seal(id).blob
    }

    /// `None` when the blob was not made with this key or was changed.
    pub fn decrypt(&self, blob: &[u8]) -> Option<CitizenId> {
        match blob.len() {
            CITIZEN_BLOB_LEN => {
                let (nonce, sealed) = blob.split_at(GCM_NONCE_LEN);
                let mut clear = sealed.to_vec();
                let clear = self
                    .aead
                    .open_in_place(
                        ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?,
                        ring::aead::Aad::empty(),
                        &mut clear,
                    )
                    .ok()?;
                let id = CitizenId::parse(std::str::from_utf8(clear).ok()?).ok()?;
                (self.keyed(&id).as_bytes()[HASH_LEN..HASH_LEN + GCM_NONCE_LEN] == *nonce).then_some(id)
            }
            LEGACY_BLOB_LEN => CitizenId::parse(std::str::from_utf8(&self.legacy.open(blob)?).ok()?).ok(),
            _ => None,
        }
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
    /// Signs the short-lived attendance passes a learner shows as a QR code (`community::classes_pass`).
    pass: [u8; 32],
}

impl Keys {
    pub fn new(key: &DataKey) -> Self {
        Self {
            citizen: CitizenCipher::new(key),
            signing: Sealer::new(key, "hocvuso 2026 certificate signing key sealing"),
            csrf: blake3::derive_key("hocvuso 2026 csrf token", key.bytes()),
            subject: blake3::derive_key("hocvuso 2026 identity provider subject", key.bytes()),
            pass: blake3::derive_key("hocvuso 2026 attendance pass", key.bytes()),
        }
    }

    /// The CSRF token bound to a session or pre-session secret (OWASP's HMAC token pattern).
    pub fn csrf_token(&self, seed: &str) -> String {
        hex::encode(&blake3::keyed_hash(&self.csrf, seed.as_bytes()).as_bytes()[..16])
    }

    /// The 128-bit tag of an attendance pass's body (a keyed BLAKE3, used as a MAC).
    pub fn pass_tag(&self, body: &[u8]) -> [u8; 16] {
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&blake3::keyed_hash(&self.pass, body).as_bytes()[..16]);
        tag
    }

    /// VNeID's subject may itself be a citizen number, so it is kept only as a keyed hash.
    pub fn subject_hash(&self, issuer: &str, subject: &str) -> Vec<u8> {
        let mut hasher = blake3::Hasher::new_keyed(&self.subject);
        hasher.update(issuer.as_bytes()).update(b"\0").update(subject.as_bytes());
        hasher.finalize().as_bytes()[..HASH_LEN].to_vec()
    }
}

/// A generated password (80 random bits) as four groups of four characters without look-alikes
/// ("k7mq-x2wd-..."): easy to read aloud to an officer and to type on a phone, and, because of the
/// hyphens, never all digits or one repeated character, so the password rules always accept it
/// (a hex slice was refused about once in two thousand).
pub fn random_password() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
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

    #[test]
    fn one_keyed_hash_gives_the_lookup_hash_and_the_nonce() {
        let cipher = CitizenCipher::new(&DataKey::generate());
        let a = CitizenId::parse("025090123456").unwrap();
        let b = CitizenId::parse("025090123457").unwrap();
        let sealed = cipher.seal(&a);
        assert_eq!(sealed.hash, cipher.hash(&a));
        assert_eq!(sealed.blob.len(), CITIZEN_BLOB_LEN);
        assert_eq!(sealed.blob, cipher.encrypt(&a), "the same number seals the same way");
        assert_ne!(sealed.blob[..GCM_NONCE_LEN], cipher.encrypt(&b)[..GCM_NONCE_LEN], "numbers differ, nonces differ");
        for i in 0..sealed.blob.len() {
            let mut bad = sealed.blob.clone();
            bad[i] ^= 0x40;
            assert_eq!(cipher.decrypt(&bad), None, "byte {i} changed");
        }
        assert_eq!(cipher.decrypt(&sealed.blob[..39]), None);
        assert_eq!(cipher.decrypt(&[sealed.blob.as_slice(), &[0]].concat()), None);
        // A well-formed blob of `a` under `b`'s nonce opens under the key but is not `a`'s blob.
        let nonce: [u8; GCM_NONCE_LEN] = cipher.encrypt(&b)[..GCM_NONCE_LEN].try_into().unwrap();
        let forged = cipher.seal_under(nonce, &a);
        assert_eq!(cipher.decrypt(&forged), None, "the nonce must be the number's own");
    }

    #[test]
    fn numbers_sealed_by_earlier_versions_still_open() {
        let key = DataKey::generate();
        let cipher = CitizenCipher::new(&key);
        let id = CitizenId::parse("025090123456").unwrap();
        let earlier = Sealer::new(&key, "hocvuso 2026 citizen number encryption").seal(id.expose().as_bytes());
        assert_eq!(earlier.len(), 52);
        assert_eq!(cipher.decrypt(&earlier), Some(id));
    }
}
