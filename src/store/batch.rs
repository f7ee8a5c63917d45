//! Group commit: writes that arrive together go into one transaction, and each is acknowledged
//! only once that transaction is durable. A crash loses nothing acknowledged, and many writers
//! share one disk flush (SQLite's single writer would otherwise flush once per write).

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::store::Store;

/// Writes one batch in one transaction: one outcome per job, in order.
pub type WriteBatch<J, O> = for<'a> fn(&'a Store, &'a [J]) -> BoxFuture<'a, sqlx::Result<Vec<O>>>;

type Job<J, O> = (J, oneshot::Sender<Result<O, String>>);

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
    let mut jobs: Vec<J> = Vec::with_capacity(max);
    let mut acks = Vec::with_capacity(max);
    while rx.recv_many(&mut batch, max).await > 0 {
        for (job, ack) in batch.drain(..) {
            jobs.push(job);
            acks.push(ack);
        }
        let started = std::time::Instant::now();
        let written = write(&store, &jobs).await;
        tracing::debug!(writes = jobs.len(), elapsed_us = started.elapsed().as_micros() as u64, "{what} batch");
        match written {
            Ok(outcomes) => {
                for (ack, outcome) in acks.drain(..).zip(outcomes) {
                    let _ = ack.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = jobs.len(), "writing {what} failed");
                for ack in acks.drain(..) {
                    let _ = ack.send(Err(format!("the database did not take the {what}")));
                }
            }
        }
        jobs.clear();
    }
}
