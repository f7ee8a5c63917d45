//! Values read from the database and kept for a short while, rebuilt by one request at a time.
//!
//! For pages that many people open at once and that show the same thing to all of them (the home
//! page, the public figures): on the peak day the home page is a third of all requests. When an
//! entry expires, one request rebuilds it and the others are served the expired value meanwhile;
//! without that, every request in flight rebuilt it at once and the database's CPU ran out
//! (BENCHMARKS.md, peak day). Everything kept here can be rebuilt from the database at any time.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Kept values by key, each for `ttl`.
pub struct Memo<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

/// The lock held by the one caller rebuilding a key.
type Building = Arc<tokio::sync::Mutex<()>>;

/// A kept value and whether it is still fresh.
type Known<V> = Option<(Arc<V>, bool)>;

struct Entry<V> {
    at: Option<Instant>,
    value: Option<Arc<V>>,
    building: Building,
    /// Moves at each [`Memo::expire`]: a build that started before it is kept but not fresh.
    generation: u64,
}

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The value of `key`, fresh or expired, the lock that rebuilds it, and its generation.
    fn look(&self, key: &K) -> (Known<V>, Building, u64) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(key.clone()).or_insert_with(|| Entry {
            at: None,
            value: None,
            building: Arc::default(),
            generation: 0,
        });
        let value = entry.value.clone().map(|v| (v, entry.at.is_some_and(|at| at.elapsed() < self.ttl)));
        (value, entry.building.clone(), entry.generation)
    }

    /// Keeps `value`, built from what the database held at `generation`: fresh only if nothing
    /// expired the key since (the build may have read the database before the change).
    fn put(&self, key: &K, value: Arc<V>, generation: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(key) {
            entry.at = (entry.generation == generation).then(Instant::now);
            entry.value = Some(value);
        }
    }

    /// The value of `key` when it is less than `ttl` old. Otherwise one caller runs `build` while
    /// the others get the expired value, or wait for the build when there is none yet. A failed
    /// build keeps the expired value for the next caller to try again.
    pub async fn get<E, F, Fut>(&self, key: K, build: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let (known, building, _) = self.look(&key);
        if let Some((value, true)) = &known {
            return Ok(value.clone());
        }
        let _building = match building.try_lock() {
            Ok(guard) => guard,
            Err(_) => match known {
                Some((stale, _)) => return Ok(stale),
                None => building.lock().await,
            },
        };
        // Another caller may have rebuilt it while this one waited.
        let generation = match self.look(&key) {
            (Some((value, true)), _, _) => return Ok(value),
            (_, _, generation) => generation,
        };
        let built = Arc::new(build().await?);
        self.put(&key, built.clone(), generation);
        Ok(built)
    }

    /// Makes the next [`Memo::get`] of `key` rebuild it (after a change its readers should see at once).
    pub fn expire(&self, key: &K) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(key) {
            entry.at = None;
            entry.generation += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_build_while_fresh_and_one_rebuild_when_expired_or_told() {
        let memo: Memo<u8, usize> = Memo::new(Duration::from_millis(50));
        let builds = AtomicUsize::new(0);
        let build = || async { Ok::<_, ()>(builds.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(*memo.get(1, build).await.unwrap(), 1);
        assert_eq!(*memo.get(1, build).await.unwrap(), 1);
        memo.expire(&1);
        assert_eq!(*memo.get(1, build).await.unwrap(), 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*memo.get(1, build).await.unwrap(), 3);
        assert_eq!(*memo.get(2, build).await.unwrap(), 4);
    }

    /// A build of `value` for key 1 that has started and waits for `release`.
    async fn slow_build(
        memo: &Arc<Memo<u8, usize>>,
        value: usize,
    ) -> (tokio::task::JoinHandle<Result<Arc<usize>, ()>>, Arc<tokio::sync::Notify>) {
        let (started, release) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
        let slow = {
            let (memo, started, release) = (memo.clone(), started.clone(), release.clone());
            tokio::spawn(async move {
                memo.get(1, || async move {
                    started.notify_one();
                    release.notified().await;
                    Ok::<_, ()>(value)
                })
                .await
            })
        };
        started.notified().await;
        (slow, release)
    }

    #[tokio::test]
    async fn callers_during_a_rebuild_get_the_expired_value_and_do_not_build() {
        let memo: Arc<Memo<u8, usize>> = Arc::new(Memo::new(Duration::from_secs(60)));
        memo.get(1, || async { Ok::<_, ()>(1) }).await.unwrap();
        memo.expire(&1);
        let (slow, release) = slow_build(&memo, 2).await;
        let during = memo.get(1, || async { Ok::<_, ()>(99) }).await.unwrap();
        assert_eq!(*during, 1, "served the expired value, no second build");
        release.notify_one();
        assert_eq!(*slow.await.unwrap().unwrap(), 2);
        assert_eq!(*memo.get(1, || async { Ok::<_, ()>(99) }).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn an_expiry_during_a_build_makes_the_next_caller_build_again() {
        let memo: Arc<Memo<u8, usize>> = Arc::new(Memo::new(Duration::from_secs(60)));
        let (slow, release) = slow_build(&memo, 1).await;
        // The build read the database before this change: its value must not count as fresh.
        memo.expire(&1);
        release.notify_one();
        assert_eq!(*slow.await.unwrap().unwrap(), 1);
        assert_eq!(*memo.get(1, || async { Ok::<_, ()>(2) }).await.unwrap(), 2);
        assert_eq!(*memo.get(1, || async { Ok::<_, ()>(3) }).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failed_build_is_not_kept() {
        let memo: Memo<u8, usize> = Memo::new(Duration::from_secs(60));
        assert!(memo.get(1, || async { Err::<usize, _>("down") }).await.is_err());
        assert_eq!(*memo.get(1, || async { Ok::<_, &str>(7) }).await.unwrap(), 7);
    }
}
