//! Passwords: argon2id with the crate's defaults (OWASP's m=19 MiB, t=2, p=1), on a blocking thread,
//! a bounded number at a time.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use tokio::sync::Semaphore;

pub const MIN_LENGTH: usize = 10;

/// A password that passed the rules; the rules are few and said plainly, as NIST SP 800-63B advises.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, login: Option<&str>) -> Result<Self, &'static str> {
        if raw.chars().count() < MIN_LENGTH {
            return Err("Mật khẩu cần ít nhất 10 ký tự. / The password needs at least 10 characters.");
        }
        if raw.chars().count() > 128 {
            return Err("Mật khẩu dài quá 128 ký tự. / The password is longer than 128 characters.");
        }
        if login.is_some_and(|l| raw.to_lowercase().contains(&l.to_lowercase())) {
            return Err("Mật khẩu không được chứa tên đăng nhập. / The password must not contain the login.");
        }
        if raw.chars().all(|c| c == raw.chars().next().unwrap_or(' ')) || raw.chars().all(|c| c.is_ascii_digit()) {
            return Err("Mật khẩu quá dễ đoán. / The password is too easy to guess.");
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password made for an account (a new officer's first password, the demo's): one the rules
    /// accept, drawn again in the rare case it contains the login. Returns the text to hand over.
    pub fn generate(login: Option<&str>) -> (String, Self) {
        for _ in 0..64 {
            let raw = crate::crypto::random_password();
            if let Ok(password) = Self::parse(&raw, login) {
                return (raw, password);
            }
        }
        // A login every grouped password contains ("-", one common letter): 128 random bits in hex,
        // without hyphens, rather than drawing for ever.
        let raw = crate::crypto::random_token()[..32].to_owned();
        (raw.clone(), Self(raw))
    }

    pub async fn hash(self) -> anyhow::Result<String> {
        in_turn(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(self.0.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await?
    }
}

/// Checks a password against a stored hash. With no hash, a dummy is checked so that a missing
/// account takes as long to refuse as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    in_turn(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        PasswordHash::new(&stored)
            .is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            && stored != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// How many argon2id computations run at once: every core but one, at least one. Unbounded, a burst
/// of logins (the peak day's morning, 40 a second) took every core, each hash on its own blocking
/// thread with its own 19 MiB, and every other request waited behind them; bounded, logins queue
/// for their turn and one core stays with the pages. BENCHMARKS.md, "argon2 a bounded number at a time".
static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(turns())));

fn turns() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).saturating_sub(1).max(1)
}

/// Runs `work` on a blocking thread once one of the [`HASHING`] turns is free. The turn goes with
/// the work: a request dropped mid-hash (its client gone) does not free a turn while its hash runs on.
async fn in_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let turn = HASHING.clone().acquire_owned().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let result = work();
        drop(turn);
        result
    })
    .await?)
}

/// The argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0u6o8o0zHq8cQ7rU1uAfyq0Q8mS1m2sJbqM4wQeLx3E";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hash = NewPassword::parse("mật khẩu dài đủ", None).unwrap().hash().await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("mật khẩu dài đủ".into(), Some(hash.clone())).await);
        assert!(!verify("mật khẩu sai rồi".into(), Some(hash)).await);
        assert!(!verify("anything".into(), None).await);
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(NewPassword::parse("ngắn", None).is_err());
        assert!(NewPassword::parse("0123456789", None).is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaa", None).is_err());
        assert!(NewPassword::parse("canbo04792-matkhau", Some("canbo04792")).is_err());
    }

    #[test]
    fn generated_passwords_always_pass_the_rules_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let (raw, _) = NewPassword::generate(Some("an"));
            assert!(NewPassword::parse(&raw, Some("an")).is_ok(), "{raw}");
            assert_eq!(raw.len(), 19);
            assert!(seen.insert(raw));
        }
        let (raw, _) = NewPassword::generate(Some("-"));
        assert!(!raw.contains('-') && raw.len() == 32, "{raw}");
    }

    /// More callers than turns at once, every other one dropped mid-hash (its client gone): never
    /// more running than there are turns. The work sleeps so that, unbounded, every caller would be
    /// running at the same moment.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_at_once_than_turns() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..turns() + 3)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(in_turn(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
        for (i, caller) in callers.into_iter().enumerate() {
            if i % 2 == 0 {
                caller.abort();
            } else {
                caller.await.unwrap().unwrap();
            }
        }
        // The dropped callers' work runs on: wait for it before reading the count.
        while running.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=turns()).contains(&most), "{most} ran at once with {} turns", turns());
    }
}
