//! Opening ZIP containers (OOXML, ODF) without letting them explode.
//!
//! Three layers, so neither a lying central directory nor a lying local
//! header gets far:
//! 1. the entry count in the end-of-central-directory record is checked
//!    before the `zip` crate reads (and allocates for) the directory;
//! 2. every entry's declared sizes are checked: count, total uncompressed
//!    size, and compression ratio (`Limits::zip_*`);
//! 3. entries are read through [`Bounded`], which stops at the smaller of
//!    the declared size and `max_xml_bytes`, so an entry that inflates past
//!    what it declared is refused mid-stream, never unpacked.
//!
//! Only deflate and stored entries are supported; others are unrenderable.

use crate::{InspectError, Limits, Properties};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use zip::ZipArchive;
use zip::result::ZipError;

/// End of central directory record: fixed part, plus a comment of at most
/// 64 KiB after it.
const EOCD_LEN: u64 = 22;
const EOCD_SEARCH: u64 = EOCD_LEN + 0xffff;

/// Reads the archive's entry count from its end record; `None` when there
/// is no end record (not a ZIP).
pub(crate) fn declared_entries<R: Read + Seek>(
    reader: &mut R,
) -> Result<Option<u64>, InspectError> {
    let size = reader.seek(SeekFrom::End(0))?;
    let start = size.saturating_sub(EOCD_SEARCH);
    reader.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    reader.take(EOCD_SEARCH).read_to_end(&mut tail)?;
    let Some(at) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return Ok(None);
    };
    let record = tail.get(at..).unwrap_or_default();
    let entries = record.get(10..12).map(|b| u16::from_le_bytes([b[0], b[1]]));
    if entries != Some(0xffff) {
        return Ok(entries.map(u64::from));
    }
    // ZIP64: the real count is in the ZIP64 end record the locator points to.
    let locator = at.checked_sub(20).and_then(|l| tail.get(l..at));
    let Some(locator) = locator.filter(|l| l.starts_with(b"PK\x06\x07")) else {
        return Ok(Some(0xffff));
    };
    let mut offset = [0u8; 8];
    offset.copy_from_slice(locator.get(8..16).unwrap_or(&[0; 8]));
    reader.seek(SeekFrom::Start(u64::from_le_bytes(offset)))?;
    let mut record = [0u8; 40];
    reader.read_exact(&mut record)?;
    if !record.starts_with(b"PK\x06\x06") {
        return Err(InspectError::unrenderable("ZIP64 end record not found"));
    }
    let mut count = [0u8; 8];
    count.copy_from_slice(record.get(32..40).unwrap_or(&[0; 8]));
    Ok(Some(u64::from_le_bytes(count)))
}

/// A plain ZIP is stored, not unpacked: report its entry count only.
pub(crate) fn inspect_plain<R: Read + Seek>(
    mut reader: R,
    _size: u64,
) -> Result<Properties, InspectError> {
    match declared_entries(&mut reader)? {
        Some(entries) => Ok(Properties {
            entries: Some(entries),
            ..Properties::default()
        }),
        None => Err(InspectError::unrenderable(
            "no ZIP end of central directory record",
        )),
    }
}

/// Opens a ZIP-based document after checking the declared sizes of every
/// entry against `limits`.
pub(crate) fn open<R: Read + Seek>(
    mut reader: R,
    limits: &Limits,
) -> Result<ZipArchive<R>, InspectError> {
    let Some(declared) = declared_entries(&mut reader)? else {
        return Err(InspectError::unrenderable("not a ZIP archive"));
    };
    check_count(declared, limits)?;
    reader.seek(SeekFrom::Start(0))?;
    let mut archive = ZipArchive::new(reader).map_err(zip_error)?;
    check_count(archive.len() as u64, limits)?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(zip_error)?;
        let (packed, size) = (entry.compressed_size(), entry.size());
        total = total.saturating_add(size);
        if total > limits.zip_max_total_uncompressed {
            return Err(InspectError::limit(format!(
                "entries declare more than {} bytes uncompressed",
                limits.zip_max_total_uncompressed
            )));
        }
        if size >= limits.zip_ratio_min_bytes && size / packed.max(1) > limits.zip_max_ratio {
            return Err(InspectError::limit(format!(
                "entry {:?} inflates {}:1, over the {}:1 limit",
                entry.name(),
                size / packed.max(1),
                limits.zip_max_ratio
            )));
        }
    }
    Ok(archive)
}

fn check_count(entries: u64, limits: &Limits) -> Result<(), InspectError> {
    if entries > limits.zip_max_entries as u64 {
        return Err(InspectError::limit(format!(
            "{entries} entries, over the {} limit",
            limits.zip_max_entries
        )));
    }
    Ok(())
}

pub(crate) fn zip_error(err: ZipError) -> InspectError {
    match err {
        ZipError::Io(io) => InspectError::from(io),
        other => InspectError::unrenderable(format!("ZIP: {other}")),
    }
}

/// Runs `read` on the entry called `name` (`None` if there is none), through
/// a reader bounded by the entry's declared size and `max_xml_bytes`.
pub(crate) fn with_entry<R, T>(
    archive: &mut ZipArchive<R>,
    name: &str,
    limits: &Limits,
    read: impl FnOnce(&mut dyn io::BufRead) -> Result<T, InspectError>,
) -> Result<Option<T>, InspectError>
where
    R: Read + Seek,
{
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(err) => return Err(zip_error(err)),
    };
    let declared = entry.size();
    if declared > limits.max_xml_bytes {
        return Err(InspectError::limit(format!(
            "{name} declares {declared} bytes, over the {} byte limit",
            limits.max_xml_bytes
        )));
    }
    let mut bounded = BufReader::new(Bounded {
        inner: entry,
        left: declared,
    });
    read(&mut bounded).map(Some)
}

/// Fails with `FileTooLarge` (mapped to `LimitExceeded`) as soon as more
/// than `left` bytes come out.
pub(crate) struct Bounded<R> {
    pub(crate) inner: R,
    pub(crate) left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than allowed, to notice an overrun.
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self
            .inner
            .read(buf.get_mut(..want).unwrap_or_default())
            .map_err(|err| {
                // The zip crate notices the overrun first on some entries; its
                // error is InvalidData, which would read as "corrupt", not "bomb".
                if err.to_string().contains("larger than its declared") {
                    io::Error::new(io::ErrorKind::FileTooLarge, err.to_string())
                } else {
                    err
                }
            })?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "ZIP entry inflates past its declared size",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
