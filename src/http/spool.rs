//! A request body kept in a file while it is ingested: deliveries are read
//! twice (framing first, then record by record) and are far larger than
//! memory should hold. The file is removed when the [`Spooled`] is dropped,
//! whatever happened; what a killed gateway left behind goes when a
//! gateway starts and the file is older than the ingest time limit
//! ([`remove_abandoned`]).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::error::ApiError;
use crate::fhir::outcome::IssueCode;

/// A received body, in a file of its own.
#[derive(Debug)]
pub struct Spooled {
    path: PathBuf,
    pub bytes: u64,
    /// SHA-256 of the body, in hex.
    pub sha256: String,
}

impl Spooled {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a spooled delivery");
        }
    }
}

/// Streams `body` into a new file in `dir`, refusing it (413) as soon as it
/// passes `limit` bytes. A body that breaks off is a 400; the partial file
/// is removed either way.
pub async fn receive(dir: &Path, body: Body, limit: u64) -> Result<Spooled, ApiError> {
    tokio::fs::create_dir_all(dir).await.map_err(|e| spool_failed(dir, &e))?;
    let path = dir.join(format!("{}.delivery", uuid::Uuid::new_v4().simple()));
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .map_err(|e| spool_failed(dir, &e))?;
    // From here on the file is removed when `spooled` is dropped.
    let mut spooled = Spooled { path, bytes: 0, sha256: String::new() };
    let mut hasher = Sha256::new();
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("The delivery could not be received whole: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        spooled.bytes += data.len() as u64;
        if spooled.bytes > limit {
            drain_a_little(body).await;
            return Err(too_large(limit));
        }
        hasher.update(&data);
        file.write_all(&data).await.map_err(|e| spool_failed(dir, &e))?;
    }
    file.flush().await.map_err(|e| spool_failed(dir, &e))?;
    file.sync_all().await.map_err(|e| spool_failed(dir, &e))?;
    spooled.sha256 = hex::encode(hasher.finalize());
    Ok(spooled)
}

/// Removes the spool files that no ingest can still be reading: those
/// older than the ingest time limit (left by a gateway that was killed).
/// Returns how many went.
pub fn remove_abandoned(dir: &Path, ingest_timeout: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let abandoned = path.extension().is_some_and(|e| e == "delivery")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > ingest_timeout));
        if abandoned && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Reads (and drops) a little more of a body that is refused: a client
/// still sending when the connection closes may get a reset instead of
/// the answer that says why. Bounded in bytes and time, as a lingering
/// close is.
async fn drain_a_little(mut body: Body) {
    const MAX_BYTES: usize = 1024 * 1024;
    let mut drained = 0;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while drained < MAX_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => drained += frame.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
    })
    .await;
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        IssueCode::TooLong,
        format!("The delivery is larger than the limit of {limit} bytes (limits.max_delivery_bytes)"),
    )
}

fn spool_failed(dir: &Path, error: &std::io::Error) -> ApiError {
    tracing::error!(dir = %dir.display(), %error, "cannot spool a delivery");
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        IssueCode::Exception,
        "The gateway cannot keep the delivery while it reads it; try again later.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_old_spool_files_are_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.delivery");
        let fresh = dir.path().join("fresh.delivery");
        let other = dir.path().join("notes.txt");
        for path in [&old, &fresh, &other] {
            std::fs::write(path, b"{}").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - Duration::from_secs(3 * 3600);
        for path in [&old, &other] {
            std::fs::File::options().write(true).open(path).unwrap().set_modified(long_ago).unwrap();
        }
        assert_eq!(remove_abandoned(dir.path(), Duration::from_secs(2 * 3600)), 1);
        assert!(!old.exists() && fresh.exists() && other.exists());
        assert_eq!(remove_abandoned(&dir.path().join("missing"), Duration::from_secs(1)), 0);
    }
}
