//! What the policy checks need, taken from what inspection found: inspector [`Properties`] to
//! core [`DocumentFacts`].
//!
//! Page sizes are the *effective* ones (crop box, user unit and rotation applied), which is
//! what a printer or a viewer sees and what document classes describe. A flag the inspector
//! could not determine counts as absent: preflight refuses what it knows is there, not what it
//! could not see.

use intake_core::checks::DocumentFacts;
use intake_inspect::Properties;

pub fn document_facts(props: &Properties) -> DocumentFacts {
    DocumentFacts {
        // Slides and sheets are the "pages" of presentations and workbooks.
        pages: props.pages.or(props.slides).or(props.sheets),
        page_sizes: props
            .page_sizes
            .iter()
            .map(|p| (p.width_pt, p.height_pt))
            .collect(),
        encrypted: props.encrypted.unwrap_or(false),
        has_javascript: props.has_javascript.unwrap_or(false),
        has_embedded_files: props.has_embedded_files.unwrap_or(false),
        macros: props.macros.unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use intake_inspect::PageSize;

    #[test]
    fn effective_sizes_and_flags_are_carried_over() {
        let page = PageSize {
            width_pt: 792.0,
            height_pt: 612.0,
            width_in: 11.0,
            height_in: 8.5,
            rotation: 90,
            media_box: [0.0, 0.0, 612.0, 792.0],
            crop_box: None,
        };
        let props = Properties {
            pages: Some(1),
            page_sizes: vec![page],
            encrypted: Some(true),
            ..Properties::default()
        };
        let facts = document_facts(&props);
        assert_eq!(facts.pages, Some(1));
        assert_eq!(facts.page_sizes, vec![(792.0, 612.0)]);
        assert!(facts.encrypted && !facts.has_javascript && !facts.macros);
        let deck = Properties {
            slides: Some(12),
            macros: Some(true),
            ..Properties::default()
        };
        let facts = document_facts(&deck);
        assert_eq!((facts.pages, facts.macros), (Some(12), true));
    }
}
