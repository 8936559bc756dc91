//! One thread owns the local database and runs every change in group commits: it takes what
//! is waiting (up to a few hundred operations), runs each in its own savepoint inside one
//! transaction, commits once (one fsync), and only then answers each caller. An answer
//! therefore always means "on disk"; a crash before the commit answers nobody. Once the
//! database is found damaged (SQLite says so, or the file is emptied, replaced or shrinks under
//! it) the store answers every later operation with the damage: nothing is acknowledged again.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use super::custody;
use super::db::exec;

/// The most operations one commit takes.
const BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Operation = Box<dyn FnOnce(&Connection) -> Finish + Send>;

#[derive(Clone)]
pub struct Store {
    operations: std_mpsc::Sender<Operation>,
    damage: Arc<Damage>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the local database failed: {0}")]
    Failed(String),
    /// The database is damaged; every operation from now on fails with this.
    #[error("the local database is damaged: {0}")]
    Damaged(String),
}

/// The first damage found, and a channel that tells whoever waits for it.
struct Damage {
    found: Mutex<Option<String>>,
    announce: watch::Sender<Option<String>>,
}

impl Damage {
    fn get(&self) -> Option<String> {
        self.found.lock().ok().and_then(|found| found.clone())
    }

    fn set(&self, problem: String) {
        if let Ok(mut found) = self.found.lock()
            && found.is_none()
        {
            tracing::error!("the local database is damaged: {problem}; refusing every operation");
            *found = Some(problem.clone());
            let _ = self.announce.send(Some(problem));
        }
    }
}

/// What the file was when the store opened it: the same file must stay, and never shrink (an
/// emptied file has shrunk). Looked at with `stat` only: opening and closing the database file
/// in this process would drop the POSIX locks SQLite holds on it, and another connection would
/// then take this one's WAL for abandoned.
struct FileWatch {
    path: PathBuf,
    inode: u64,
    largest: u64,
}

impl FileWatch {
    fn new(path: &Path) -> std::io::Result<FileWatch> {
        let metadata = std::fs::metadata(path)?;
        Ok(FileWatch {
            path: path.to_owned(),
            inode: metadata.ino(),
            largest: metadata.len(),
        })
    }

    /// The damage done to the file since the last look, if any.
    fn problem(&mut self) -> Option<String> {
        let metadata = match std::fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(e) => return Some(format!("the file cannot be read any more ({e})")),
        };
        if metadata.ino() != self.inode {
            return Some("the file was replaced while mgrid dev used it".to_owned());
        }
        // SQLite in WAL mode never shrinks the file without a VACUUM, which mgrid never runs.
        if metadata.len() < self.largest {
            return Some(format!(
                "the file shrank from {} to {} bytes while mgrid dev used it",
                self.largest,
                metadata.len()
            ));
        }
        self.largest = metadata.len();
        None
    }
}

impl Store {
    /// Opens the database at `path` and starts its thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = super::db::open(path).map_err(|e| classify(&e))?;
        let watch = FileWatch::new(path).map_err(|e| StoreError::Failed(e.to_string()))?;
        let (operations, queue) = std_mpsc::channel::<Operation>();
        let damage = Arc::new(Damage {
            found: Mutex::new(None),
            announce: watch::channel(None).0,
        });
        let seen = damage.clone();
        std::thread::Builder::new()
            .name("mgrid-store".into())
            .spawn(move || commit_loop(connection, queue, watch, &seen))
            .map_err(|e| StoreError::Failed(e.to_string()))?;
        Ok(Store { operations, damage })
    }

    /// Resolves with the problem once the database is found damaged.
    pub async fn damaged(&self) -> String {
        let mut announced = self.damage.announce.subscribe();
        loop {
            if let Some(problem) = announced.borrow_and_update().clone() {
                return problem;
            }
            if announced.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Runs `operation` in the next commit; its result once that commit is on disk.
    pub async fn run<R, F>(&self, operation: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        if let Some(problem) = self.damage.get() {
            return Err(StoreError::Damaged(problem));
        }
        let (answer, answered) = oneshot::channel();
        let damage = self.damage.clone();
        let boxed: Operation = Box::new(move |connection: &Connection| {
            let result = in_savepoint(connection, operation);
            Box::new(move |committed: Result<(), StoreError>| {
                let outcome = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (_, Err(error)) => Err(error),
                    (Err(error), Ok(())) => Err(classify(&error)),
                };
                if let Err(StoreError::Damaged(problem)) = &outcome {
                    damage.set(problem.clone());
                }
                let _ = answer.send(outcome);
            })
        });
        self.operations
            .send(boxed)
            .map_err(|_| StoreError::Failed("the store thread has stopped".into()))?;
        answered.await.map_err(|_| match self.damage.get() {
            Some(problem) => StoreError::Damaged(problem),
            None => StoreError::Failed("the store thread has stopped".into()),
        })?
    }
}

/// Runs one operation so that its failure undoes only its own changes.
fn in_savepoint<R>(
    connection: &Connection,
    operation: impl FnOnce(&Connection) -> rusqlite::Result<R>,
) -> rusqlite::Result<R> {
    exec(connection, "SAVEPOINT operation", [])?;
    match operation(connection) {
        Ok(value) => {
            exec(connection, "RELEASE operation", [])?;
            Ok(value)
        }
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK TO operation; RELEASE operation");
            Err(error)
        }
    }
}

fn classify(error: &rusqlite::Error) -> StoreError {
    if custody::is_damage(error) {
        StoreError::Damaged(error.to_string())
    } else {
        StoreError::Failed(error.to_string())
    }
}

fn commit_loop(
    connection: Connection,
    queue: std_mpsc::Receiver<Operation>,
    mut watch: FileWatch,
    damage: &Damage,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(operation) => batch.push(operation),
                Err(_) => break,
            }
        }
        if let Some(problem) = damage.get() {
            // Never run on a damaged database: answer every operation with the damage.
            for operation in batch {
                drop(operation);
            }
            tracing::debug!("refused a batch: {problem}");
            continue;
        }
        if let Err(error) = exec(&connection, "BEGIN IMMEDIATE", []) {
            if let StoreError::Damaged(problem) = classify(&error) {
                damage.set(problem);
            }
            for operation in batch {
                // Never run outside a transaction: the caller hears that the store failed.
                drop(operation);
            }
            tracing::error!("cannot begin a local transaction: {error}");
            continue;
        }
        let finishers: Vec<Finish> = batch.into_iter().map(|op| op(&connection)).collect();
        let mut committed = exec(&connection, "COMMIT", [])
            .map(|_| ())
            .map_err(|e| classify(&e));
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        // A commit that SQLite took on a file emptied or replaced meanwhile is not on disk.
        if committed.is_ok()
            && let Some(problem) = watch.problem()
        {
            committed = Err(StoreError::Damaged(problem));
        }
        // Each finisher marks the store damaged if the commit found it so.
        for finish in finishers {
            finish(committed.clone());
        }
    }
}
