//! One thread owns the local database and runs every change in group commits: it takes what
//! is waiting (up to a few hundred operations), runs each in its own savepoint inside one
//! transaction, commits once (one fsync), and only then answers each caller. An answer
//! therefore always means "on disk"; a crash before the commit answers nobody.

use std::path::Path;
use std::sync::mpsc as std_mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

/// The most operations one commit takes.
const BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Operation = Box<dyn FnOnce(&Connection) -> Finish + Send>;

#[derive(Clone)]
pub struct Store {
    operations: std_mpsc::Sender<Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the local database failed: {0}")]
pub struct StoreError(pub String);

impl Store {
    /// Opens the database at `path` and starts its thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = super::db::open(path).map_err(|e| StoreError(e.to_string()))?;
        let (operations, queue) = std_mpsc::channel::<Operation>();
        std::thread::Builder::new()
            .name("mgrid-store".into())
            .spawn(move || commit_loop(connection, queue))
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(Store { operations })
    }

    /// Runs `operation` in the next commit; its result once that commit is on disk.
    pub async fn run<R, F>(&self, operation: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let boxed: Operation = Box::new(move |connection: &Connection| {
            let result = in_savepoint(connection, operation);
            Box::new(move |committed: Result<(), String>| {
                let outcome = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Err(error), _) => Err(StoreError(error.to_string())),
                    (_, Err(error)) => Err(StoreError(format!("commit failed: {error}"))),
                };
                let _ = answer.send(outcome);
            })
        });
        self.operations
            .send(boxed)
            .map_err(|_| StoreError("the store thread has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError("the store thread has stopped".into()))?
    }
}

/// Runs one operation so that its failure undoes only its own changes.
fn in_savepoint<R>(
    connection: &Connection,
    operation: impl FnOnce(&Connection) -> rusqlite::Result<R>,
) -> rusqlite::Result<R> {
    connection.execute_batch("SAVEPOINT operation")?;
    match operation(connection) {
        Ok(value) => {
            connection.execute_batch("RELEASE operation")?;
            Ok(value)
        }
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK TO operation; RELEASE operation");
            Err(error)
        }
    }
}

fn commit_loop(connection: Connection, queue: std_mpsc::Receiver<Operation>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(operation) => batch.push(operation),
                Err(_) => break,
            }
        }
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            let message = error.to_string();
            for operation in batch {
                // Never run outside a transaction: answer with the failure instead.
                drop(operation);
                tracing::error!("cannot begin a local transaction: {message}");
            }
            continue;
        }
        let finishers: Vec<Finish> = batch.into_iter().map(|op| op(&connection)).collect();
        let committed = connection
            .execute_batch("COMMIT")
            .map_err(|e| e.to_string());
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        for finish in finishers {
            finish(committed.clone());
        }
    }
}
