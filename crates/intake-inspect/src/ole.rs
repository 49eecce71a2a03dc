use crate::{InspectError, Properties};
pub(crate) fn inspect<R: std::io::Read + std::io::Seek>(
    _r: R,
    _s: u64,
) -> Result<Properties, InspectError> {
    Ok(Properties::default())
}
