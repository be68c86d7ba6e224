//! The bytes of a delivery file on their way to the JSON parser: read
//! through a 64 KiB buffer, checked as UTF-8 chunk by chunk (an error
//! names the offset of the first bad byte, which serde_json cannot), and
//! counted as the parser takes them, so that the first pass can note
//! where each record list starts and the second pass can come back to it.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::rc::Rc;
use std::time::SystemTime;

/// The read buffer.
pub(super) const BUFFER: usize = 64 * 1024;

/// The file from `start`, checked as UTF-8, through the read buffer.
pub(super) fn open_at(path: &Path, start: u64) -> io::Result<BufReader<Utf8Checked<File>>> {
    let mut file = File::open(path)?;
    if start > 0 {
        file.seek(SeekFrom::Start(start))?;
    }
    let checked = Utf8Checked { inner: file, offset: start, pending: Vec::new(), pending_at: 0 };
    Ok(BufReader::with_capacity(BUFFER, checked))
}

/// `reader` (at offset `start`) with the count of the bytes the parser
/// has taken: the offset in the file of the next byte it will take. The
/// count costs a call per byte; only the first pass needs it.
pub(super) fn counted<R: Read>(reader: R, start: u64) -> (Counted<R>, Rc<Cell<u64>>) {
    let taken = Rc::new(Cell::new(start));
    (Counted { inner: reader, taken: Rc::clone(&taken) }, taken)
}

/// Bytes that are not UTF-8, at this offset in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file is not UTF-8: the byte at offset {offset} does not belong to a character")]
pub(super) struct NotUtf8 {
    pub(super) offset: u64,
}

/// What tells a file apart from itself after a change: its length, times
/// and (on Unix) device and inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    identity: (u64, u64, i64, i64),
}

impl Stamp {
    pub(super) fn of(path: &Path) -> io::Result<Stamp> {
        let metadata = std::fs::metadata(path)?;
        Ok(Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            identity: {
                use std::os::unix::fs::MetadataExt;
                (metadata.dev(), metadata.ino(), metadata.ctime(), metadata.ctime_nsec())
            },
        })
    }
}

/// Counts the bytes handed on (the parser takes them one at a time).
#[derive(Debug)]
pub(super) struct Counted<R> {
    inner: R,
    taken: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.set(self.taken.get() + n as u64);
        Ok(n)
    }
}

/// Checks that what passes is UTF-8. A character split between two reads
/// waits in `pending` for the rest of its bytes.
#[derive(Debug)]
pub(super) struct Utf8Checked<R> {
    inner: R,
    /// The file offset of the next byte read from `inner`.
    offset: u64,
    pending: Vec<u8>,
    pending_at: u64,
}

impl<R: Read> Read for Utf8Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if !self.pending.is_empty() {
                return Err(not_utf8(self.pending_at));
            }
            return Ok(0);
        }
        self.check(&buf[..n])?;
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> Utf8Checked<R> {
    fn check(&mut self, chunk: &[u8]) -> io::Result<()> {
        let mut rest = chunk;
        let mut at = self.offset;
        if let Some(&lead) = self.pending.first() {
            let width = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (width - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            match std::str::from_utf8(&self.pending) {
                Ok(_) => self.pending.clear(),
                Err(e) if e.error_len().is_none() => return Ok(()),
                Err(_) => return Err(not_utf8(self.pending_at)),
            }
            rest = &rest[take..];
            at += take as u64;
        }
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                self.pending.extend_from_slice(&rest[e.valid_up_to()..]);
                self.pending_at = at + e.valid_up_to() as u64;
                Ok(())
            }
            Err(e) => Err(not_utf8(at + e.valid_up_to() as u64)),
        }
    }
}

fn not_utf8(offset: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, NotUtf8 { offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bytes` in chunks of `chunk` bytes through the check.
    fn check(bytes: &[u8], chunk: usize) -> Result<(), u64> {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = Utf8Checked { inner: Chunked(bytes, chunk), offset: 0, pending: Vec::new(), pending_at: 0 };
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| ()).map_err(|e| {
            e.get_ref().and_then(|e| e.downcast_ref::<NotUtf8>()).map(|e| e.offset).expect("a NotUtf8 error")
        })
    }

    #[test]
    fn characters_split_between_reads_pass_and_bad_bytes_are_found_where_they_are() {
        let text = "{\"naam\": \"Zoë Yılmaz – 🙂 °C\"}".as_bytes();
        for chunk in 1..=7 {
            assert_eq!(check(text, chunk), Ok(()), "chunks of {chunk}");
        }
        let cases: [(&[u8], u64); 5] = [
            (b"ab\xffcd", 2),
            (b"ab\xc3", 2),               // the file ends inside a character
            (b"abc\xe2\x82(", 3),         // a character cut short
            (b"\xf0\x9f\x99\x82\x80", 4), // a continuation byte alone
            (b"a\xed\xa0\x80", 1),        // a surrogate
        ];
        for (bytes, offset) in cases {
            for chunk in 1..=5 {
                assert_eq!(check(bytes, chunk), Err(offset), "{bytes:?} in chunks of {chunk}");
            }
        }
    }
}
