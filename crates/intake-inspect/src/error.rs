//! The inspectors' error type, and how an I/O error is classified: an error
//! caused by the bytes (short file, corrupt compressed data) is the file's
//! fault and final; any other is the storage's fault and worth a retry.

use intake_core::Reason;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The bytes cannot be parsed as the format they were detected as.
    #[error("unrenderable: {0}")]
    Unrenderable(String),
    /// A decompression bomb, or a file that would need more memory or work
    /// than [`crate::Limits`] allow. Refused without unpacking.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// Reading the blob failed; the file itself may be fine.
    #[error("i/o error: {0}")]
    Io(#[source] io::Error),
}

impl InspectError {
    pub(crate) fn unrenderable(msg: impl Into<String>) -> InspectError {
        InspectError::Unrenderable(msg.into())
    }

    pub(crate) fn limit(msg: impl Into<String>) -> InspectError {
        InspectError::LimitExceeded(msg.into())
    }

    /// The rejection reason to record, or `None` when the job should be
    /// retried (`Io`).
    pub fn reason(&self) -> Option<Reason> {
        match self {
            InspectError::Unrenderable(_) | InspectError::LimitExceeded(_) => {
                Some(Reason::Unrenderable)
            }
            InspectError::Io(_) => None,
        }
    }

    /// True when retrying cannot help.
    pub fn is_final(&self) -> bool {
        self.reason().is_some()
    }
}

impl From<io::Error> for InspectError {
    fn from(err: io::Error) -> InspectError {
        match err.kind() {
            // Raised by readers that enforce a size bound.
            io::ErrorKind::FileTooLarge => InspectError::LimitExceeded(err.to_string()),
            // Raised by short files and by decoders on corrupt data.
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::InvalidData
            | io::ErrorKind::InvalidInput => InspectError::Unrenderable(err.to_string()),
            _ => InspectError::Io(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_are_final_and_storage_errors_retry() {
        let short: InspectError = io::Error::from(io::ErrorKind::UnexpectedEof).into();
        assert_eq!(short.reason(), Some(Reason::Unrenderable));
        let gone: InspectError = io::Error::from(io::ErrorKind::ConnectionReset).into();
        assert!(matches!(gone, InspectError::Io(_)));
        assert_eq!(gone.reason(), None);
        assert!(InspectError::limit("bomb").is_final());
    }
}
