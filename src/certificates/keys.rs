//! Ed25519 signing keys by key id. The newest key that is not retired signs; retired keys stay
//! published in the issuer's DID document, so every certificate keeps verifying by its key id.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{Context, anyhow};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;

use crate::crypto::Sealer;
use crate::identity::accounts::now;
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

/// The signer in use, with secrets opened once per key id.
#[derive(Default)]
pub struct Signers {
    opened: RwLock<HashMap<String, Arc<SigningKey>>>,
    public: RwLock<HashMap<String, VerifyingKey>>,
}

impl Signers {
    /// The key that signs now. Asked of the database each time (one small query), so a rotation
    /// made by another server or the command line takes effect at once.
    pub async fn current(&self, store: &Store, sealer: &Sealer) -> anyhow::Result<(String, Arc<SigningKey>)> {
        let row: Option<(String, Vec<u8>)> = on_pool!(store, pool => sqlx::query_as(
            "SELECT kid, secret_enc FROM signing_key WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1")
            .fetch_optional(pool).await?);
        let (kid, sealed) = match row {
            Some(row) => row,
            None => {
                ensure(store, sealer).await?;
                return Box::pin(self.current(store, sealer)).await;
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
}
