//! Ed25519 signing keys by key id. The newest key that is not retired signs; retired keys stay
//! published in the issuer's DID document, so every certificate keeps verifying by its key id.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;

use crate::crypto::Sealer;
use crate::domain::time::now;
use crate::on_pool;
use crate::store::Store;

/// A key id names the public key it belongs to: the first bytes of its hash.
pub fn kid_of(public: &VerifyingKey) -> String {
    format!("k-{}", &crate::crypto::short_hash(public.as_bytes())[..12])
}

/// `z` + base58btc(0xed01 || key): the Multikey form of an Ed25519 public key.
pub fn multibase(public: &VerifyingKey) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(public.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Makes a new key and retires every other: from now on it alone signs.
pub async fn rotate(store: &Store, sealer: &Sealer) -> anyhow::Result<String> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let key = SigningKey::from_bytes(&secret);
    let kid = kid_of(&key.verifying_key());
    let at = now();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE signing_key SET retired_at = $1 WHERE retired_at IS NULL").bind(at).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO signing_key (kid, public_key, secret_enc, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&kid).bind(key.verifying_key().as_bytes().to_vec()).bind(sealer.seal(&secret)).bind(at)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(kid)
}

/// Creates the first key when there is none.
pub async fn ensure(store: &Store, sealer: &Sealer) -> anyhow::Result<()> {
    let active: i64 = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM signing_key WHERE retired_at IS NULL").fetch_one(pool).await?);
    if active == 0 {
        rotate(store, sealer).await?;
    }
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PublicKey {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl PublicKey {
    pub fn verifying(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(self.public_key.as_slice().try_into().ok()?).ok()
    }
}

pub async fn published(store: &Store) -> sqlx::Result<Vec<PublicKey>> {
    on_pool!(store, pool => sqlx::query_as(
        "SELECT kid, public_key, created_at, retired_at FROM signing_key ORDER BY created_at, kid").fetch_all(pool).await)
}

/// How long a server keeps signing with the key it last read: a rotation reaches every server
/// within this time.
const CURRENT_FOR: Duration = Duration::from_secs(1);
/// Credentials whose signature was checked, by the hash of their stored text; more and the set starts again.
const VERIFIED_KEPT: usize = 1 << 20;

/// The signer in use, with secrets opened once per key id.
#[derive(Default)]
pub struct Signers {
    opened: RwLock<HashMap<String, Arc<SigningKey>>>,
    current: RwLock<Option<(Instant, String, Arc<SigningKey>)>>,
    public: RwLock<HashMap<String, VerifyingKey>>,
    verified: RwLock<HashSet<[u8; 32]>>,
    /// The signed revocation lists, kept with the key that signed them.
    pub status_lists: crate::certificates::status::Lists,
}

impl Signers {
    /// The key that signs now, read again from the database after [`CURRENT_FOR`], so a rotation
    /// made by another server or the command line takes effect within it.
    pub async fn current(&self, store: &Store, sealer: &Sealer) -> anyhow::Result<(String, Arc<SigningKey>)> {
        if let Some((at, kid, key)) = self.current.read().expect("signers").as_ref()
            && at.elapsed() < CURRENT_FOR
        {
            return Ok((kid.clone(), key.clone()));
        }
        let (kid, key) = self.read_current(store, sealer).await?;
        *self.current.write().expect("signers") = Some((Instant::now(), kid.clone(), key.clone()));
        Ok((kid, key))
    }

    async fn read_current(&self, store: &Store, sealer: &Sealer) -> anyhow::Result<(String, Arc<SigningKey>)> {
        let row: Option<(String, Vec<u8>)> = on_pool!(store, pool => sqlx::query_as(
            "SELECT kid, secret_enc FROM signing_key WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1")
            .fetch_optional(pool).await?);
        let (kid, sealed) = match row {
            Some(row) => row,
            None => {
                ensure(store, sealer).await?;
                return Box::pin(self.read_current(store, sealer)).await;
            }
        };
        if let Some(key) = self.opened.read().expect("signers").get(&kid) {
            return Ok((kid, key.clone()));
        }
        let secret =
            sealer.open(&sealed).ok_or_else(|| anyhow!("signing key {kid} does not open with this data key"))?;
        let secret: [u8; 32] = secret.as_slice().try_into().context("a signing key is 32 bytes")?;
        let key = Arc::new(SigningKey::from_bytes(&secret));
        self.opened.write().expect("signers").insert(kid.clone(), key.clone());
        Ok((kid, key))
    }

    /// A public key by id, cached: a key never changes once made.
    pub async fn public(&self, store: &Store, kid: &str) -> sqlx::Result<Option<VerifyingKey>> {
        if let Some(key) = self.public.read().expect("signers").get(kid) {
            return Ok(Some(*key));
        }
        let bytes: Option<Vec<u8>> = on_pool!(store, pool => sqlx::query_scalar(
            "SELECT public_key FROM signing_key WHERE kid = $1").bind(kid).fetch_optional(pool).await?);
        let key = bytes.and_then(|b| VerifyingKey::from_bytes(b.as_slice().try_into().ok()?).ok());
        if let Some(key) = key {
            self.public.write().expect("signers").insert(kid.to_owned(), key);
        }
        Ok(key)
    }

    /// Whether a stored credential carries a good signature of key `kid` (and names that key).
    /// Each stored text is checked once: the hash of the text is remembered, so a changed record is
    /// checked again and a tampered one is caught.
    pub async fn genuine(&self, store: &Store, kid: &str, stored: &str) -> sqlx::Result<bool> {
        let mut hasher = blake3::Hasher::new();
        hasher.update(kid.as_bytes()).update(b"\0").update(stored.as_bytes());
        let fingerprint = *hasher.finalize().as_bytes();
        if self.verified.read().expect("signers").contains(&fingerprint) {
            return Ok(true);
        }
        let Some(key) = self.public(store, kid).await? else { return Ok(false) };
        let signed: serde_json::Value = serde_json::from_str(stored).unwrap_or_default();
        let good = crate::certificates::credential::key_id(&signed) == Some(kid)
            && crate::certificates::credential::verify(&signed, &key);
        if good {
            let mut verified = self.verified.write().expect("signers");
            if verified.len() >= VERIFIED_KEPT {
                verified.clear();
            }
            verified.insert(fingerprint);
        }
        Ok(good)
    }
}
