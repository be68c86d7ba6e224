//! Whether anything was committed to an SQLite database since a moment,
//! without a query.
//!
//! In WAL mode every connection of every process shares the WAL index,
//! the `-shm` file beside the database. It starts with a header kept in
//! two copies of 48 bytes (<https://www.sqlite.org/walformat.html>): every
//! commit increments its change counter (`iChange`) and moves its last
//! frame (`mxFrame`), and a WAL that starts over gets new salts. A writer
//! updates the second copy, then the first, so a header read while one is
//! being written has copies that differ. Equal bytes read at two moments
//! therefore mean that nothing was committed in between.
//!
//! Reading it is a `stat` and a `pread`, where a query through sqlx is
//! two thread switches: this is what lets a request check that what the
//! caches hold is still current without a round trip (`cache::Freshness`).

use std::fs::File;
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::store::CommitMarker;

/// Both copies of the WAL index header.
const HEADER: usize = std::mem::size_of::<CommitMarker>();
/// The `isInit` byte of a header copy: 1 once the header is valid.
const IS_INIT: usize = 12;

/// Reads the WAL index header of a database file.
#[derive(Debug)]
pub(crate) struct WalIndex {
    path: PathBuf,
    open: Mutex<Option<OpenIndex>>,
}

#[derive(Debug)]
struct OpenIndex {
    file: File,
    device: u64,
    inode: u64,
}

impl WalIndex {
    /// The WAL index of the database at `database`.
    pub(crate) fn of(database: &Path) -> Self {
        let mut path = database.as_os_str().to_owned();
        path.push("-shm");
        WalIndex { path: PathBuf::from(path), open: Mutex::new(None) }
    }

    /// The header as it is now, or `None` when it cannot tell (no WAL index
    /// yet, a header being written, not valid): then only a query can.
    ///
    /// The file is looked up by its path every time: when the last
    /// connection to a database closes, SQLite may remove the index and a
    /// later connection makes a new one, and the old file would never
    /// change again.
    pub(crate) fn marker(&self) -> Option<CommitMarker> {
        let now = std::fs::metadata(&self.path).ok()?;
        let mut open = self.open.lock().ok()?;
        let current = open.as_ref().is_some_and(|o| o.device == now.dev() && o.inode == now.ino());
        if !current {
            let file = File::open(&self.path).ok()?;
            let opened = file.metadata().ok()?;
            *open = Some(OpenIndex { file, device: opened.dev(), inode: opened.ino() });
        }
        let mut header = [0u8; HEADER];
        open.as_ref()?.file.read_exact_at(&mut header, 0).ok()?;
        let (first, second) = header.split_at(HEADER / 2);
        (first == second && first[IS_INIT] == 1).then_some(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection as _, SqliteConnection};

    async fn connect(path: &Path) -> SqliteConnection {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        SqliteConnection::connect_with(&options).await.unwrap()
    }

    #[tokio::test]
    async fn the_marker_changes_with_every_commit_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe.db");
        let index = WalIndex::of(&path);
        assert_eq!(index.marker(), None, "no database, no WAL index");

        let mut writer = connect(&path).await;
        let mut reader = connect(&path).await;
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut writer).await.unwrap();
        let mut seen = vec![index.marker().expect("a WAL index after a commit")];
        for n in 0..5 {
            sqlx::query("INSERT INTO t VALUES (?)").bind(n).execute(&mut writer).await.unwrap();
            let marker = index.marker().unwrap();
            assert!(!seen.contains(&marker), "commit {n} left the marker as it was");
            seen.push(marker);
        }
        // Reading, and a transaction that is rolled back, commit nothing.
        let last = *seen.last().unwrap();
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut reader).await.unwrap();
        let mut tx = writer.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (99)").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(index.marker(), Some(last));
        // A checkpoint that empties the WAL, then a commit that starts it over.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut reader).await.unwrap();
        sqlx::query("INSERT INTO t VALUES (7)").execute(&mut writer).await.unwrap();
        let restarted = index.marker().unwrap();
        assert!(!seen.contains(&restarted), "a commit after a restart of the WAL was not seen");
    }

    #[tokio::test]
    async fn a_wal_index_made_anew_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe.db");
        let index = WalIndex::of(&path);
        let mut first = connect(&path).await;
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut first).await.unwrap();
        let before = index.marker().unwrap();
        // The last connection goes: SQLite removes its WAL and index.
        first.close().await.unwrap();
        assert!(!dir.path().join("probe.db-shm").exists());
        let mut again = connect(&path).await;
        sqlx::query("INSERT INTO t VALUES (1)").execute(&mut again).await.unwrap();
        let after = index.marker().expect("the new index is read");
        assert_ne!(before, after);
        sqlx::query("INSERT INTO t VALUES (2)").execute(&mut again).await.unwrap();
        assert_ne!(index.marker().unwrap(), after);
    }
}
