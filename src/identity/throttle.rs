//! The per-account login delay, in the database so that every server sees the same one (a delay is
//! not a lockout: the account is slowed, never shut). Each password attempt on a login name is
//! counted as a failure when it is let through, before the password is checked, so that attempts
//! arriving together are let through one at a time; a successful login deletes the row.
//! The delay after n counted attempts is 2^(n-1) seconds, capped; a row quiet for a day starts over.

use crate::on_pool;
use crate::store::Store;

/// The longest an account's next attempt waits.
pub const MAX_DELAY_SECONDS: i64 = 15 * 60;
/// A row untouched this long no longer counts.
pub const FORGET_AFTER_SECONDS: i64 = 24 * 3600;

/// The key of a login name: the same for a known and an unknown name, so both are slowed alike.
pub fn key(login: &str) -> Vec<u8> {
    blake3::hash(format!("account:{}", login.trim().to_lowercase()).as_bytes()).as_bytes()[..16].to_vec()
}

// One statement, so that two attempts cannot both pass: the row's update is conditional on the
// delay being over, and RETURNING says whether it happened.
const TAKE: &str = "INSERT INTO login_throttle (key_hash, failures, delay_seconds, next_at, updated_at) \
     VALUES ($1, 1, 1, $2 + 1, $2) \
     ON CONFLICT (key_hash) DO UPDATE SET \
     failures = CASE WHEN login_throttle.updated_at < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
     delay_seconds = CASE WHEN login_throttle.updated_at < $3 THEN 1 \
         WHEN login_throttle.delay_seconds * 2 > $4 THEN $4 ELSE login_throttle.delay_seconds * 2 END, \
     next_at = $2 + CASE WHEN login_throttle.updated_at < $3 THEN 1 \
         WHEN login_throttle.delay_seconds * 2 > $4 THEN $4 ELSE login_throttle.delay_seconds * 2 END, \
     updated_at = $2 \
     WHERE login_throttle.next_at <= $2 \
     RETURNING failures";

/// Deletes the row of a login name (its successful login) and rows nobody has touched for a day.
pub const CLEAR: &str = "DELETE FROM login_throttle WHERE key_hash = $1 OR updated_at < $2";

/// Lets an attempt on `key` through (`Ok`) or says how many seconds it must wait (`Err`).
pub async fn take_attempt(store: &Store, key: &[u8], now: i64) -> sqlx::Result<Result<(), i64>> {
    let taken: Option<i64> = on_pool!(store, pool => sqlx::query_scalar(TAKE)
        .bind(key).bind(now).bind(now - FORGET_AFTER_SECONDS).bind(MAX_DELAY_SECONDS)
        .fetch_optional(pool).await)?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let next_at: Option<i64> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT next_at FROM login_throttle WHERE key_hash = $1"
    ).bind(key).fetch_optional(pool).await)?;
    Ok(Err(next_at.map_or(1, |at| (at - now).max(1))))
}
