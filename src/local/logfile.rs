//! The local stage's pipeline log: the decision lines the processor prints to CloudWatch Logs on
//! AWS, appended by `mgrid dev` to `<data-dir>/logs/pipeline.log`, and read back by
//! `mgrid logs --stage local` and `mgrid trace --stage local`. The file is rotated at
//! [`MAX_BYTES`] (`pipeline.log.1`, `pipeline.log.2`; older ones are dropped), owner-only like
//! everything in the data directory, and never followed through a link.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mgrid_contract::EpochMillis;
use mgrid_contract::decision::DecisionLine;

use super::paths::Paths;
use crate::decide::logs::{Follow, Found, LogLine, LogQuery, LogSource};
use crate::failure::{Failure, FailureKind};
use crate::ports::{Logs, NewLines};

/// Where a log file is rotated.
pub const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Rotated files kept besides the current one.
pub const ROTATED: usize = 2;

const NAME: &str = "pipeline.log";

fn current(paths: &Paths) -> PathBuf {
    paths.logs.join(NAME)
}

fn rotated(paths: &Paths, n: usize) -> PathBuf {
    paths.logs.join(format!("{NAME}.{n}"))
}

/// Every log file, oldest first.
pub fn files(paths: &Paths) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..=ROTATED).rev().map(|n| rotated(paths, n)).collect();
    files.push(current(paths));
    files
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Appends decision lines (one `mgrid dev` holds the data directory, so one writer).
pub struct LogWriter {
    paths: Paths,
    file: Mutex<(File, u64)>,
}

impl LogWriter {
    pub fn open(paths: &Paths) -> io::Result<LogWriter> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&paths.logs)?;
        let file = open_append(&current(paths))?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            paths: paths.clone(),
            file: Mutex::new((file, size)),
        })
    }

    /// Appends the lines, rotating first when the file is full.
    pub fn write(&self, lines: &[DecisionLine]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for line in lines {
            text.push_str(&line.to_line());
            text.push('\n');
        }
        let mut guard = self
            .file
            .lock()
            .map_err(|_| io::Error::other("the log writer's lock is poisoned"))?;
        if guard.1 + text.len() as u64 > MAX_BYTES && guard.1 > 0 {
            for n in (1..ROTATED).rev() {
                let from = rotated(&self.paths, n);
                if from.exists() {
                    std::fs::rename(&from, rotated(&self.paths, n + 1))?;
                }
            }
            std::fs::rename(current(&self.paths), rotated(&self.paths, 1))?;
            *guard = (open_append(&current(&self.paths))?, 0);
        }
        guard.0.write_all(text.as_bytes())?;
        guard.1 += text.len() as u64;
        Ok(())
    }
}

/// Reads the log as it grows, across rotations, with no line twice and none missed: the file
/// being read is kept open, so a rotation (a rename) lets it be read to its end before the new
/// file is taken from its start.
pub struct LogFollower {
    paths: Paths,
    open: Option<(File, u64)>,
    offset: u64,
    partial: String,
}

impl LogFollower {
    /// Starts at the end of the current file (what is there was read already).
    pub fn from_end(paths: &Paths) -> LogFollower {
        let mut follower = LogFollower {
            paths: paths.clone(),
            open: None,
            offset: 0,
            partial: String::new(),
        };
        if let Ok(file) = File::open(current(paths))
            && let Ok(metadata) = file.metadata()
        {
            follower.offset = metadata.len();
            follower.open = Some((file, metadata.ino()));
        }
        follower
    }

    /// The whole lines written since the last call, each with its id (`<inode>:<offset>`, the
    /// same as [`read_all`] gives it).
    pub fn poll(&mut self) -> io::Result<Vec<(String, String)>> {
        let mut lines = self.read_open()?;
        let now = std::fs::metadata(current(&self.paths))
            .ok()
            .map(|m| m.ino());
        let same = matches!((&self.open, now), (Some((_, ino)), Some(now)) if *ino == now);
        if !same && let Some(ino) = now {
            // Rotated (or first created): the old file was read to its end above.
            let file = File::open(current(&self.paths))?;
            self.open = Some((file, ino));
            self.offset = 0;
            self.partial.clear();
            lines.extend(self.read_open()?);
        }
        Ok(lines)
    }

    fn read_open(&mut self) -> io::Result<Vec<(String, String)>> {
        let Some((file, ino)) = self.open.as_mut() else {
            return Ok(Vec::new());
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        let read = file.read_to_string(&mut text)?;
        // Where the held partial line starts in the file.
        let mut at = self.offset - self.partial.len() as u64;
        self.offset += read as u64;
        self.partial.push_str(&text);
        let mut lines = Vec::new();
        while let Some(end) = self.partial.find('\n') {
            lines.push((format!("{ino}:{at}"), self.partial[..end].to_owned()));
            at += end as u64 + 1;
            self.partial.drain(..=end);
        }
        Ok(lines)
    }
}

/// Every line of every log file, oldest first (a missing file is skipped), each with its id:
/// `<inode>:<offset>`, which a rotation (a rename) does not change.
pub fn read_all(paths: &Paths) -> io::Result<Vec<(String, String)>> {
    let mut lines = Vec::new();
    for path in files(paths) {
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let ino = file.metadata()?.ino();
        let mut at = 0u64;
        for line in BufReader::new(file).split(b'\n') {
            let line = line?;
            let length = line.len() as u64 + 1;
            lines.push((
                format!("{ino}:{at}"),
                String::from_utf8_lossy(&line).into_owned(),
            ));
            at += length;
        }
    }
    Ok(lines)
}

/// A logged line as the logs commands read it: the local log holds the authorizer's, the
/// processor's and the archiver's decisions, each naming its function.
fn log_line((id, text): (String, String)) -> LogLine {
    let decision = DecisionLine::parse(&text);
    let at = decision.as_ref().and_then(|d| d.at()).unwrap_or_default();
    let source = match decision.as_ref().map(|d| d.function.as_str()) {
        Some("archiver") => LogSource::Archiver,
        Some("notifier") => LogSource::Notifier,
        Some("authorizer") => LogSource::Authorizer,
        _ => LogSource::Processor,
    };
    LogLine::new(at, source, id, text)
}

/// The query's lines in the local log, oldest first: the newest `limit` of them.
pub fn read(paths: &Paths, query: &LogQuery, limit: usize) -> Result<Found, Failure> {
    let mut found = Found::default();
    if !query.sources.iter().any(|s| *s != LogSource::Api) {
        return Ok(found);
    }
    if !current(paths).exists() {
        found.missing.push(current(paths).display().to_string());
    }
    let lines = read_all(paths).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!(
                "cannot read the local pipeline log in {}: {e}",
                paths.logs.display()
            ),
        )
    })?;
    found.lines = lines
        .into_iter()
        .map(log_line)
        .filter(|line| query.matches(line))
        .collect();
    found.truncated = found.lines.len() > limit;
    found.newest = true;
    let dropped = found.lines.len().saturating_sub(limit);
    found.lines.drain(..dropped);
    Ok(found)
}

impl LogFollower {
    /// The query's lines written since the last call.
    pub fn poll_lines(&mut self, query: &LogQuery) -> Result<Vec<LogLine>, Failure> {
        let lines = self.poll().map_err(|e| {
            Failure::new(
                FailureKind::Failed,
                format!("cannot read the local pipeline log: {e}"),
            )
        })?;
        Ok(lines
            .into_iter()
            .map(log_line)
            .filter(|line| query.matches(line))
            .collect())
    }
}

/// How long a follow waits between polls of the log file.
const POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// The local stage's log, as a follow reads it.
pub struct LocalLogs {
    paths: Paths,
    follower: Option<Box<LogFollower>>,
}

impl LocalLogs {
    pub fn new(paths: Paths) -> LocalLogs {
        LocalLogs {
            paths,
            follower: None,
        }
    }
}

impl Logs for LocalLogs {
    async fn read(
        &self,
        query: &LogQuery,
        from: EpochMillis,
        limit: usize,
    ) -> Result<Found, Failure> {
        let query = LogQuery {
            from,
            ..query.clone()
        };
        read(&self.paths, &query, limit)
    }

    /// The end of the log file as it is now: a line written from here on is read by the
    /// follow, even while the first read runs.
    fn start_follow(&mut self) {
        self.follower = Some(Box::new(LogFollower::from_end(&self.paths)));
    }

    async fn go_live(&mut self, _query: &LogQuery, _missing: &[String]) -> String {
        "following the local log file".to_owned()
    }

    async fn next(&mut self, query: &LogQuery, follow: &mut Follow) -> Result<NewLines, Failure> {
        tokio::time::sleep(POLL).await;
        let paths = &self.paths;
        let lines = self
            .follower
            .get_or_insert_with(|| Box::new(LogFollower::from_end(paths)))
            .poll_lines(query)?;
        Ok(NewLines {
            lines: follow.fresh(lines),
            note: None,
            unreadable: Vec::new(),
        })
    }

    fn keeps_access_log(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use mgrid_contract::decision::Level;

    use super::*;

    fn line(n: usize, padding: usize) -> DecisionLine {
        let mut line = DecisionLine::new(n as i64, Level::Info, "processor", "recorded");
        line.event_id = Some(format!("evt_{n}"));
        line.group = Some("x".repeat(padding));
        line
    }

    #[test]
    fn lines_are_owner_only_and_rotate_without_a_gap_for_a_follower() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(dir.path());
        let writer = LogWriter::open(&paths).expect("open");
        writer.write(&[line(0, 10)]).expect("write");
        let mut follower = LogFollower::from_end(&paths);
        // About 1.1 MB a batch: the file rotates every seven or so batches, and 44 MB is more
        // than the three files keep.
        let mut written = Vec::new();
        let mut followed = Vec::new();
        for batch in 0..40 {
            let lines: Vec<DecisionLine> =
                (0..10).map(|i| line(1 + batch * 10 + i, 110_000)).collect();
            writer.write(&lines).expect("write");
            written.extend(lines.iter().map(|l| l.event_id.clone()));
            if batch % 3 == 0 {
                followed.extend(follower.poll().expect("poll"));
            }
        }
        followed.extend(follower.poll().expect("poll"));
        let ids: Vec<Option<String>> = followed
            .iter()
            .map(|(_, l)| DecisionLine::parse(l).and_then(|d| d.event_id))
            .collect();
        assert_eq!(ids, written, "every line once, in order, across rotations");
        assert!(rotated(&paths, 2).exists() && !rotated(&paths, 3).exists());
        for path in files(&paths) {
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
        let kept = read_all(&paths).expect("read");
        // A line has the same id whether followed or read.
        let followed_ids: std::collections::HashSet<&String> =
            followed.iter().map(|(id, _)| id).collect();
        assert!(kept.iter().all(|(id, _)| followed_ids.contains(id)));
        assert!(
            kept.len() < 401 && kept.len() > 150,
            "older files are dropped: {}",
            kept.len()
        );
    }

    #[test]
    fn a_read_over_the_limit_keeps_the_newest_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(dir.path());
        let writer = LogWriter::open(&paths).expect("open");
        writer
            .write(&(1..=5).map(|n| line(n, 0)).collect::<Vec<_>>())
            .expect("write");
        let query = LogQuery {
            sources: crate::decide::logs::LogSource::ALL.to_vec(),
            ..LogQuery::default()
        };
        let found = read(&paths, &query, 2).expect("read");
        let events: Vec<Option<String>> = found
            .lines
            .iter()
            .map(|l| l.decision.as_ref().and_then(|d| d.event_id.clone()))
            .collect();
        assert_eq!(
            events,
            [Some("evt_4".to_owned()), Some("evt_5".to_owned())],
            "the window's newest, oldest first"
        );
        assert!(found.truncated && found.newest);
    }

    #[test]
    fn a_log_file_that_is_a_link_is_not_written_through() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(&dir.path().join("local"));
        std::fs::create_dir_all(&paths.logs).expect("dirs");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "").expect("file");
        std::os::unix::fs::symlink(&elsewhere, current(&paths)).expect("link");
        assert!(LogWriter::open(&paths).is_err());
        assert_eq!(std::fs::read_to_string(&elsewhere).expect("read"), "");
    }
}
