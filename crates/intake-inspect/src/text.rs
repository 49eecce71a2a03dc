use crate::{InspectError, Limits, Properties};
pub(crate) fn inspect<R: std::io::Read>(
    _r: R,
    _l: &Limits,
    _c: bool,
) -> Result<Properties, InspectError> {
    Ok(Properties::default())
}
