//! Background work for intake: for now only [`clamd`], the virus-scan client used by the scan job.

pub mod clamd;
