//! Group commit: writes that arrive together go into one transaction, and each is acknowledged
//! only once that transaction is durable. A crash loses nothing acknowledged, and many writers
//! share one disk flush (SQLite's single writer would otherwise flush once per write).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::store::Store;

/// Writes one batch in one transaction: one outcome per job, in order.
pub type WriteBatch<J, O> = for<'a> fn(&'a Store, &'a [J]) -> BoxFuture<'a, sqlx::Result<Vec<O>>>;

/// Writes one batch inside the transaction the SQLite writer opened on its own connection: one
/// outcome per job, in order.
pub type WriteSqlite<J, O> = fn(&rusqlite::Transaction<'_>, &[J]) -> sqlx::Result<Vec<O>>;

type Job<J, O> = (J, oneshot::Sender<Result<O, String>>);

/// The first job of each id in a batch, in order, and the first by id: a client may send one write
/// twice before the batch is written, and only the first is offered for insert (a later one is a
/// retry or a conflict of it).
pub fn firsts<'a, T>(
    jobs: impl Iterator<Item = &'a T>,
    id: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, HashMap<&'a str, &'a T>) {
    let mut first: HashMap<&str, &T> = HashMap::new();
    let offered = jobs
        .filter(|job| match first.entry(id(job)) {
            Entry::Vacant(place) => {
                place.insert(job);
                true
            }
            Entry::Occupied(_) => false,
        })
        .collect();
    (offered, first)
}

pub struct Batcher<J, O> {
    jobs: mpsc::Sender<Job<J, O>>,
}

impl<J, O> Clone for Batcher<J, O> {
    fn clone(&self) -> Self {
        Self { jobs: self.jobs.clone() }
    }
}

impl<J: Send + Sync + 'static, O: Send + 'static> Batcher<J, O> {
    /// `what` names the writes in the log when a batch fails.
    pub fn start(store: Store, max: usize, what: &'static str, write: WriteBatch<J, O>) -> Self {
        let (jobs, rx) = mpsc::channel(8 * max);
        match &store {
            Store::Sqlite(_) => on_own_thread(what, run(store, rx, max, what, write)),
            Store::Postgres(_) => drop(tokio::spawn(run(store, rx, max, what, write))),
        }
        Self { jobs }
    }

    /// [`Batcher::start`], with SQLite's batches written by `sqlite` on a connection of the writer's
    /// own, every statement on the writer's thread. Through sqlx each statement is a hand-off to the
    /// connection's thread and back; a batch of visits is some eight statements, each waiting for a
    /// core the request handlers also want, and the batch's time, not the disk, set the rate
    /// (BENCHMARKS.md, door-to-door visits).
    pub fn start_direct(
        store: Store,
        max: usize,
        what: &'static str,
        write: WriteBatch<J, O>,
        sqlite: WriteSqlite<J, O>,
    ) -> Self {
        let (jobs, rx) = mpsc::channel(8 * max);
        match &store {
            Store::Sqlite(s) => {
                let direct = s.direct.clone();
                let started = std::thread::Builder::new().name(format!("{what} writer")).spawn(move || {
                    match direct.writer() {
                        Ok(conn) => run_direct(conn, rx, max, what, sqlite),
                        Err(e) => {
                            // The sqlx path still writes, only slower.
                            tracing::error!(error = %e, "could not open the {what} writer's own connection");
                            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                                runtime.block_on(run(store, rx, max, what, write));
                            }
                        }
                    }
                });
                if let Err(e) = started {
                    tracing::error!(error = %e, "could not start the {what} writer");
                }
            }
            Store::Postgres(_) => drop(tokio::spawn(run(store, rx, max, what, write))),
        }
        Self { jobs }
    }

    /// Returns once the write is durable (or refused).
    pub async fn write(&self, job: J) -> Result<O, String> {
        let (ack, done) = oneshot::channel();
        self.jobs.send((job, ack)).await.map_err(|_| "the writer stopped".to_owned())?;
        done.await.map_err(|_| "the writer stopped".to_owned())?
    }
}

/// SQLite has one writer, and a batch is a handful of statements, each a hand-off to sqlx's
/// connection thread and back. On the shared runtime every resumption of the writer queues behind
/// the request handlers: a one-visit batch took 1.5 ms with 4 clients sending and 4.4 ms with 64
/// (BENCHMARKS.md, door-to-door visits), and the writer, busy all the run, set the rate. On a
/// thread of its own it resumes at once. It ends when the last sender is dropped.
fn on_own_thread(what: &'static str, writer: impl std::future::Future<Output = ()> + Send + 'static) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let started = runtime.and_then(|runtime| {
        std::thread::Builder::new().name(format!("{what} writer")).spawn(move || runtime.block_on(writer))
    });
    if let Err(e) = started {
        // Without a thread of its own there is no writer: every write answers "the writer stopped".
        tracing::error!(error = %e, "could not start the {what} writer");
    }
}

async fn run<J, O>(store: Store, mut rx: mpsc::Receiver<Job<J, O>>, max: usize, what: &str, write: WriteBatch<J, O>) {
    let mut batch: Vec<Job<J, O>> = Vec::with_capacity(max);
    while rx.recv_many(&mut batch, max).await > 0 {
        let (jobs, acks): (Vec<J>, Vec<_>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        let written = write(&store, &jobs).await;
        answer(what, jobs.len(), started, written, acks);
    }
}

/// The writer's loop on its own SQLite connection: it blocks its own thread only.
fn run_direct<J, O>(
    mut conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job<J, O>>,
    max: usize,
    what: &str,
    write: WriteSqlite<J, O>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (jobs, acks): (Vec<J>, Vec<_>) = batch.into_iter().unzip();
        let started = std::time::Instant::now();
        let written = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(super::direct::Error::wrap)
            .and_then(|tx| {
                let outcomes = write(&tx, &jobs)?;
                tx.commit().map_err(super::direct::Error::wrap)?;
                Ok(outcomes)
            });
        answer(what, jobs.len(), started, written, acks);
    }
}

/// Acknowledges each write of a batch with its outcome, or refuses them all when the batch failed.
fn answer<O>(
    what: &str,
    writes: usize,
    started: std::time::Instant,
    written: sqlx::Result<Vec<O>>,
    acks: Vec<oneshot::Sender<Result<O, String>>>,
) {
    tracing::debug!(writes, elapsed_us = started.elapsed().as_micros() as u64, "{what} batch");
    match written {
        Ok(outcomes) => {
            for (ack, outcome) in acks.into_iter().zip(outcomes) {
                let _ = ack.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, writes, "writing {what} failed");
            for ack in acks {
                let _ = ack.send(Err(format!("the database did not take the {what}")));
            }
        }
    }
}
