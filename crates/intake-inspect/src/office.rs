use crate::{InspectError, Limits, Properties};
pub(crate) fn inspect<R: std::io::Read + std::io::Seek>(
    _f: intake_core::Format,
    _r: R,
    _s: u64,
    _l: &Limits,
) -> Result<Properties, InspectError> {
    Ok(Properties::default())
}
