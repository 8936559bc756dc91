//! What keeps the local stage's data private and whole. The data directory holds both API keys
//! and the signing secret: it is 0700 and every file in it 0600 whatever the umask, and a
//! directory another user owns is refused. One `mgrid dev` holds it, by a lock on the directory
//! itself (deleting a lock file cannot defeat it), and `mgrid send` hands a key only to the
//! endpoint of a live `mgrid dev`. A database that is empty, not a database, or shrinks while
//! dev runs is damage, never a new stage.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::failure::{Failure, FailureKind};

use super::paths::Paths;

/// What making the directory private changed, for the banner.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tightened {
    /// Files and directories whose modes let other users in, now owner-only.
    pub entries: usize,
}

/// `bytes` written to `path` whole: a new owner-only file beside it (`<path>.partial`;
/// whatever sits at that name, a link included, is removed and never written through, and
/// `create_new` refuses anything that appears in between), synced, given `modified` as its time
/// when asked, then renamed into place. A reader sees no file or all of it.
pub fn write_private(
    path: &Path,
    bytes: &[u8],
    modified: Option<std::time::SystemTime>,
) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&partial)?;
    file.write_all(bytes)?;
    if let Some(at) = modified {
        file.set_modified(at)?;
    }
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

/// Creates the data directory owner-only, or makes an existing one so, and sets this process's
/// umask so that everything it creates there (SQLite's WAL, archive files) is owner-only too.
pub fn make_private(dir: &Path) -> Result<Tightened, Failure> {
    // SAFETY: umask only replaces the process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    let failed = |what: String| Failure::new(FailureKind::Failed, what);
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                failed(format!("cannot create {}: {e}", dir.display()))
                    .next("pass --data-dir with a directory you can write to")
            })?;
        return Ok(Tightened::default());
    }
    let metadata = std::fs::metadata(dir)
        .map_err(|e| failed(format!("cannot read {}: {e}", dir.display())))?;
    if !metadata.is_dir() {
        return Err(not_a_directory(dir));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(failed(format!(
            "{} belongs to another user (uid {}), who can read the local stage's keys",
            dir.display(),
            metadata.uid()
        ))
        .next("use a data directory of your own: --data-dir (or MGRID_LOCAL_DIR)"));
    }
    if metadata.mode() & 0o077 == 0 {
        return Ok(Tightened::default());
    }
    // Inside an owner-only directory nobody else reaches a file, whatever its mode; the walk
    // runs only when the directory itself was open, to close what was exposed.
    let mut tightened = Tightened::default();
    // The directory itself may be a link (links inside it are left alone).
    std::fs::canonicalize(dir)
        .and_then(|real| tighten(&real, &mut tightened))
        .map_err(|e| {
            failed(format!("cannot make {} private: {e}", dir.display()))
                .next(format!("run `chmod -R go-rwx {}`", dir.display()))
        })?;
    Ok(tightened)
}

fn tighten(path: &Path, tightened: &mut Tightened) -> std::io::Result<()> {
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    let private = if metadata.is_dir() { 0o700 } else { 0o600 };
    if metadata.mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(private))?;
        tightened.entries += 1;
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            tighten(&entry?.path(), tightened)?;
        }
    }
    Ok(())
}

/// The lock one running `mgrid dev` holds on its data directory, until it exits.
pub struct DevLock(#[allow(dead_code)] File);

impl DevLock {
    pub fn hold(paths: &Paths) -> Result<DevLock, Failure> {
        let dir = open_dir(paths)?;
        match dir.try_lock() {
            Ok(()) => Ok(DevLock(dir)),
            Err(std::fs::TryLockError::Error(e)) => Err(Failure::new(
                FailureKind::Failed,
                format!("cannot lock {}: {e}", paths.dir.display()),
            )),
            Err(std::fs::TryLockError::WouldBlock) => Err(Failure::new(
                FailureKind::Conflict,
                format!("another mgrid dev is running on {}", paths.dir.display()),
            )
            .next("stop it first, or give this one its own --data-dir")),
        }
    }

    /// True when a running `mgrid dev` holds `paths`' directory.
    pub fn is_held(paths: &Paths) -> Result<bool, Failure> {
        let dir = open_dir(paths)?;
        // A shared lock: two `mgrid send`s asking at once do not stand in each other's way.
        match dir.try_lock_shared() {
            Ok(()) => Ok(false),
            Err(std::fs::TryLockError::WouldBlock) => Ok(true),
            Err(std::fs::TryLockError::Error(e)) => Err(Failure::new(
                FailureKind::Failed,
                format!(
                    "cannot tell whether mgrid dev holds {}: {e}",
                    paths.dir.display()
                ),
            )),
        }
    }
}

fn open_dir(paths: &Paths) -> Result<File, Failure> {
    File::open(&paths.dir).map_err(|e| {
        Failure::new(
            FailureKind::Failed,
            format!("cannot open {}: {e}", paths.dir.display()),
        )
    })
}

/// What the data directory holds, as a start sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    /// No database and no archive: a new local stage.
    Nothing,
    /// No database beside an archive of this many webhooks (the ledger was removed).
    ArchiveOnly(usize),
    /// A database that looks like one.
    Database,
}

/// Looks at the database before anything opens it: SQLite would take an empty file, or
/// any file after a crash of the disk, as a new database and a new stage.
pub fn inspect(paths: &Paths) -> Result<Contents, Failure> {
    if std::fs::metadata(&paths.dir).is_ok_and(|m| !m.is_dir()) {
        return Err(not_a_directory(&paths.dir));
    }
    match std::fs::metadata(&paths.database) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let archived = count_files(&paths.archive);
            Ok(if archived == 0 {
                Contents::Nothing
            } else {
                Contents::ArchiveOnly(archived)
            })
        }
        Err(e) => Err(Failure::new(
            FailureKind::Failed,
            format!("cannot read {}: {e}", paths.database.display()),
        )),
        Ok(metadata) if metadata.len() == 0 => Err(damaged(paths, "it is empty (0 bytes)")),
        // Only `stat`: opening and closing the file would drop the POSIX locks SQLite holds on
        // it in this process. SQLite itself refuses a file that is not a database.
        Ok(_) => Ok(Contents::Database),
    }
}

/// The failure for a data directory that is something else (a file, most likely a typo).
fn not_a_directory(dir: &Path) -> Failure {
    let shown = dir.display();
    Failure::new(
        FailureKind::Usage,
        format!("the local stage's data directory {shown} is a file, not a directory; nothing was read or changed"),
    )
    .next(format!(
        "pass --data-dir (or MGRID_LOCAL_DIR) with a directory; `mgrid dev` creates it (or move the file away: `mv {shown} {shown}.old`)"
    ))
}

/// The failure for a damaged database: what happened, and how to start again without losing
/// what the archive holds.
pub fn damaged(paths: &Paths, problem: &str) -> Failure {
    let archived = count_files(&paths.archive);
    let db = paths.database.display();
    let mut next = format!(
        "keep it for inspection and start a new ledger: `mv {db} {db}.damaged` then `mgrid dev`"
    );
    if archived > 0 {
        next.push_str(&format!(
            "; the archive keeps {archived} webhooks: record them again with `mgrid replay --stage local --from <first hour> --to <now>` (Stripe's are checked against the signing secret: set the one they were signed with first, `mgrid keys set-signing-secret stripe --stage local`)"
        ));
    }
    Failure::new(
        FailureKind::Failed,
        format!("the local stage's database {db} is damaged: {problem}; nothing was changed"),
    )
    .next(next)
}

/// True for SQLite's answers that mean the file is damaged, not busy or missing.
pub fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => count_files(&entry.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = Paths::new(&dir.path().join("local"));
        (dir, paths)
    }

    #[test]
    fn a_new_directory_is_owner_only() {
        let (_dir, paths) = paths();
        make_private(&paths.dir).expect("created");
        let mode = std::fs::metadata(&paths.dir).expect("exists").mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn an_open_directory_and_its_files_are_tightened() {
        let (_dir, paths) = paths();
        std::fs::create_dir_all(paths.archive.join("webhooks")).expect("dirs");
        std::fs::write(paths.archive.join("webhooks/a.json"), "{}").expect("file");
        std::fs::write(&paths.database, "x").expect("file");
        for path in [&paths.dir, &paths.archive] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        for path in [&paths.database, &paths.archive.join("webhooks/a.json")] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let tightened = make_private(&paths.dir).expect("tightened");
        assert!(tightened.entries >= 4, "{tightened:?}");
        for (path, mode) in [
            (&paths.dir, 0o700),
            (&paths.archive, 0o700),
            (&paths.database, 0o600),
            (&paths.archive.join("webhooks/a.json"), 0o600),
        ] {
            let found = std::fs::metadata(path).expect("exists").mode() & 0o777;
            assert_eq!(found, mode, "{}", path.display());
        }
    }

    #[test]
    fn a_data_dir_that_is_a_link_is_tightened_where_it_points() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).expect("dir");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let link = dir.path().join("local");
        std::os::unix::fs::symlink(&real, &link).expect("link");
        make_private(&link).expect("tightened");
        let mode = std::fs::metadata(&real).expect("exists").mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn an_empty_database_is_damage_not_a_new_stage() {
        let (_dir, paths) = paths();
        std::fs::create_dir_all(paths.archive.join("x")).expect("dirs");
        std::fs::write(paths.archive.join("x/evt.json"), "{}").expect("file");
        std::fs::write(&paths.database, "").expect("file");
        let failure = inspect(&paths).expect_err("refused");
        let text = format!("{failure} {}", failure.next.clone().unwrap_or_default());
        assert!(text.contains("empty (0 bytes)"), "{text}");
        assert!(
            text.contains("1 webhooks") && text.contains("mgrid replay"),
            "{text}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_damage() {
        let (_dir, paths) = paths();
        std::fs::create_dir_all(&paths.dir).expect("dir");
        let junk = "not a database at all, honestly; ".repeat(200);
        std::fs::write(&paths.database, &junk).expect("file");
        assert_eq!(inspect(&paths).expect("only stat"), Contents::Database);
        let failure = super::super::open_existing(&paths).expect_err("refused");
        assert!(failure.to_string().contains("is damaged"), "{failure}");
        assert_eq!(
            std::fs::read_to_string(&paths.database).expect("kept"),
            junk
        );
    }

    #[test]
    fn a_missing_database_beside_an_archive_is_said() {
        let (_dir, paths) = paths();
        std::fs::create_dir_all(paths.archive.join("x")).expect("dirs");
        std::fs::write(paths.archive.join("x/evt.json"), "{}").expect("file");
        assert_eq!(inspect(&paths).expect("ok"), Contents::ArchiveOnly(1));
        std::fs::remove_dir_all(&paths.archive).expect("removed");
        assert_eq!(inspect(&paths).expect("ok"), Contents::Nothing);
    }

    #[test]
    fn the_lock_is_on_the_directory_and_seen_by_others() {
        let (_dir, paths) = paths();
        make_private(&paths.dir).expect("created");
        assert!(!DevLock::is_held(&paths).expect("checked"));
        let lock = DevLock::hold(&paths).expect("held");
        assert!(DevLock::is_held(&paths).expect("checked"));
        assert!(DevLock::hold(&paths).is_err());
        drop(lock);
        assert!(!DevLock::is_held(&paths).expect("checked"));
    }
}
