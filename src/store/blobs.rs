//! The value log: the store's large values (complaint records) in append-only segment
//! files beside the sled database, which keeps only small pointers to them.
//!
//! sled 0.34 holds every value it stores in its leaves, copies a whole leaf to change one
//! entry, and keeps superseded copies until its GC rewrites a segment: with kilobyte
//! values its memory and size on disk grow several times beyond the data. Values written
//! here are written once, sequentially. A value is framed as `[len u32][crc32 u32][bytes]`
//! (little endian); a [`BlobPtr`] names the segment, offset and length. Appends are
//! synced (`fdatasync`) before the caller stores the pointers, so a pointer in sled always
//! names bytes on disk; bytes appended before a crash and never pointed to are garbage
//! that the next compaction drops. Old versions of a value become garbage too: the store
//! counts them and [`BlobLog::delete_below`] removes whole segments after a compaction
//! has copied the live values into new ones.

use super::StoreError;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The directory of the segments inside the store directory.
pub const BLOB_DIR: &str = "blobs";
/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
const FRAME_HEADER: u64 = 8;

/// Where one value lives: 16 bytes when stored (`seg u32, off u64, len u32`, big endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobPtr {
    pub seg: u32,
    pub off: u64,
    pub len: u32,
}

impl BlobPtr {
    pub const BYTES: usize = 16;

    pub fn encode(&self) -> [u8; Self::BYTES] {
        let mut b = [0u8; Self::BYTES];
        b[..4].copy_from_slice(&self.seg.to_be_bytes());
        b[4..12].copy_from_slice(&self.off.to_be_bytes());
        b[12..].copy_from_slice(&self.len.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<BlobPtr> {
        let b: &[u8; Self::BYTES] = b.get(..Self::BYTES)?.try_into().ok()?;
        Some(BlobPtr {
            seg: u32::from_be_bytes(b[..4].try_into().ok()?),
            off: u64::from_be_bytes(b[4..12].try_into().ok()?),
            len: u32::from_be_bytes(b[12..].try_into().ok()?),
        })
    }

    /// Bytes the value takes in its segment, frame included.
    pub fn framed_len(&self) -> u64 {
        FRAME_HEADER + u64::from(self.len)
    }
}

/// The open value log.
pub struct BlobLog {
    dir: PathBuf,
    tail: Mutex<Tail>,
    /// Read handles, one per segment, opened on first use.
    readers: RwLock<HashMap<u32, Arc<File>>>,
}

/// The segment appends go to.
struct Tail {
    seg: u32,
    file: File,
    len: u64,
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn segment_name(seg: u32) -> String {
    format!("{seg:08}.log")
}

impl BlobLog {
    /// Opens the value log in `store_dir/blobs`, creating it when missing. Appends go to
    /// the newest segment, after whatever it holds (a torn last frame stays unreferenced).
    pub fn open(store_dir: &Path) -> Result<BlobLog, StoreError> {
        let dir = store_dir.join(BLOB_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let newest = list_segments(&dir)?.last().copied().unwrap_or(1);
        let tail = open_tail(&dir, newest)?;
        Ok(BlobLog {
            dir,
            tail: Mutex::new(tail),
            readers: RwLock::new(HashMap::new()),
        })
    }

    /// Appends `values` in order and syncs them to disk; returns their pointers.
    pub fn append(&self, values: &[Vec<u8>]) -> Result<Vec<BlobPtr>, StoreError> {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len >= SEGMENT_BYTES {
            let next = tail.seg + 1;
            *tail = open_tail(&self.dir, next)?;
        }
        let total: usize = values.iter().map(|v| v.len() + FRAME_HEADER as usize).sum();
        let mut buf = Vec::with_capacity(total);
        let mut ptrs = Vec::with_capacity(values.len());
        for v in values {
            let len = u32::try_from(v.len()).map_err(|_| {
                StoreError::Encoding(format!("a value of {} bytes is too large", v.len()))
            })?;
            ptrs.push(BlobPtr {
                seg: tail.seg,
                off: tail.len + buf.len() as u64,
                len,
            });
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(v).to_le_bytes());
            buf.extend_from_slice(v);
        }
        let path = self.dir.join(segment_name(tail.seg));
        let written = tail
            .file
            .write_all(&buf)
            .and_then(|_| tail.file.sync_data());
        if let Err(e) = written {
            // A partial write leaves garbage; appends continue after it.
            tail.len = tail.file.metadata().map(|m| m.len()).unwrap_or(tail.len);
            return Err(io_err(&path, e));
        }
        tail.len += buf.len() as u64;
        Ok(ptrs)
    }

    /// Reads one value, checking its frame and checksum.
    pub fn read(&self, ptr: BlobPtr) -> Result<Vec<u8>, StoreError> {
        let file = self.reader(ptr.seg)?;
        let path = || self.dir.join(segment_name(ptr.seg));
        let mut buf = vec![0u8; ptr.framed_len() as usize];
        file.read_exact_at(&mut buf, ptr.off).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.damaged(ptr, "the segment ends before the value")
            } else {
                io_err(&path(), e)
            }
        })?;
        let len = u32::from_le_bytes(buf[..4].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(buf[4..8].try_into().unwrap_or_default());
        let value = buf.split_off(FRAME_HEADER as usize);
        if len != ptr.len || crc != crc32fast::hash(&value) {
            return Err(self.damaged(ptr, "the value fails its checksum"));
        }
        Ok(value)
    }

    fn damaged(&self, ptr: BlobPtr, what: &str) -> StoreError {
        StoreError::Damaged {
            path: self.dir.join(segment_name(ptr.seg)),
            detail: format!("{what} (offset {}, {} bytes)", ptr.off, ptr.len),
        }
    }

    fn reader(&self, seg: u32) -> Result<Arc<File>, StoreError> {
        if let Some(f) = self
            .readers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&seg)
        {
            return Ok(f.clone());
        }
        let path = self.dir.join(segment_name(seg));
        let file = File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::Damaged {
                    path: path.clone(),
                    detail: "a segment of the value log is missing".into(),
                }
            } else {
                io_err(&path, e)
            }
        })?;
        let file = Arc::new(file);
        self.readers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seg, file.clone());
        Ok(file)
    }

    /// Starts a new segment for the appends that follow and returns its number: a
    /// compaction copies the live values there, then deletes every segment below it.
    pub fn start_segment(&self) -> Result<u32, StoreError> {
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let next = tail.seg + 1;
        *tail = open_tail(&self.dir, next)?;
        Ok(next)
    }

    /// Deletes the segments numbered below `seg` (their values were copied elsewhere).
    pub fn delete_below(&self, seg: u32) -> Result<(), StoreError> {
        let mut readers = self.readers.write().unwrap_or_else(|e| e.into_inner());
        for s in list_segments(&self.dir)? {
            if s < seg {
                let path = self.dir.join(segment_name(s));
                std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
                readers.remove(&s);
            }
        }
        sync_dir(&self.dir)
    }

    /// Bytes all segments take on disk.
    pub fn size(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        for s in list_segments(&self.dir)? {
            let path = self.dir.join(segment_name(s));
            total += std::fs::metadata(&path)
                .map_err(|e| io_err(&path, e))?
                .len();
        }
        Ok(total)
    }
}

/// Segment numbers present, ascending. Other files are ignored.
fn list_segments(dir: &Path) -> Result<Vec<u32>, StoreError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name();
        if let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn open_tail(dir: &Path, seg: u32) -> Result<Tail, StoreError> {
    let path = dir.join(segment_name(seg));
    let existed = path.exists();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| io_err(&path, e))?;
    if !existed {
        // The new file's directory entry must survive a crash like its contents.
        sync_dir(dir)?;
    }
    let len = file.metadata().map_err(|e| io_err(&path, e))?.len();
    Ok(Tail { seg, file, len })
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}
