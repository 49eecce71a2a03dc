//! Policy checks on what inspection found: the document class (page size,
//! orientation, page count) and the preflight rules. Pure: the worker maps
//! the inspector's properties into [`DocumentFacts`] and records the outcome.

use crate::error::Reason;
use crate::policy::{DocumentClass, Orientation, Preflight};

/// What the checks need to know about a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentFacts {
    pub pages: Option<u32>,
    /// Each page's effective (width, height) in points, rotation applied.
    pub page_sizes: Vec<(f64, f64)>,
    pub encrypted: bool,
    pub has_javascript: bool,
    pub has_embedded_files: bool,
    pub macros: bool,
}

/// Why a document failed a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: Reason,
    pub detail: String,
}

fn refuse(reason: Reason, detail: String) -> Result<(), Refusal> {
    Err(Refusal { reason, detail })
}

fn fits(w: f64, h: f64, class: &DocumentClass) -> bool {
    let near = |a: f64, b: f64| (a - b).abs() <= class.tolerance_pt;
    let portrait = near(w, class.width_pt) && near(h, class.height_pt);
    let landscape = near(w, class.height_pt) && near(h, class.width_pt);
    match class.orientation {
        Orientation::Any => portrait || landscape,
        Orientation::Portrait => portrait,
        Orientation::Landscape => landscape,
    }
}

/// Checks a document against its class; the first failure wins, in the
/// order page count, dimensions.
pub fn check_class(facts: &DocumentFacts, class: &DocumentClass) -> Result<(), Refusal> {
    if let Some(pages) = facts.pages {
        if let Some(max) = class.max_pages.filter(|max| pages > *max) {
            return refuse(
                Reason::PageCount,
                format!("{pages} pages; {} allows at most {max}", class.name),
            );
        }
        if let Some(min) = class.min_pages.filter(|min| pages < *min) {
            return refuse(
                Reason::PageCount,
                format!("{pages} pages; {} needs at least {min}", class.name),
            );
        }
    }
    for (i, &(w, h)) in facts.page_sizes.iter().enumerate() {
        if !fits(w, h, class) {
            return refuse(
                Reason::Dimensions,
                format!(
                    "page {} is {w:.2} x {h:.2} pt; {} is {} x {} pt (± {} pt)",
                    i + 1,
                    class.name,
                    class.width_pt,
                    class.height_pt,
                    class.tolerance_pt
                ),
            );
        }
    }
    Ok(())
}

pub fn check_preflight(facts: &DocumentFacts, rules: &Preflight) -> Result<(), Refusal> {
    let rules = [
        (
            rules.forbid_encrypted && facts.encrypted,
            "the document is encrypted",
        ),
        (
            rules.forbid_javascript && facts.has_javascript,
            "the document contains JavaScript",
        ),
        (
            rules.forbid_embedded_files && facts.has_embedded_files,
            "the document has embedded files",
        ),
        (
            rules.forbid_macros && facts.macros,
            "the document contains macros",
        ),
    ];
    match rules.iter().find(|(broken, _)| *broken) {
        Some((_, why)) => refuse(Reason::Preflight, (*why).to_owned()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    fn letter() -> DocumentClass {
        Policy::default().document_class("letter 8.5 x 11").unwrap()
    }

    #[test]
    fn letter_pages_fit_either_way_round_and_a4_does_not() {
        let facts = DocumentFacts {
            pages: Some(2),
            page_sizes: vec![(612.0, 792.0), (792.0, 612.0)],
            ..Default::default()
        };
        assert_eq!(check_class(&facts, &letter()), Ok(()));
        let a4 = DocumentFacts {
            pages: Some(1),
            page_sizes: vec![(595.28, 841.89)],
            ..Default::default()
        };
        assert_eq!(
            check_class(&a4, &letter()).unwrap_err().reason,
            Reason::Dimensions
        );
        let mut portrait = letter();
        portrait.orientation = Orientation::Portrait;
        let landscape = DocumentFacts {
            pages: Some(1),
            page_sizes: vec![(792.0, 612.0)],
            ..Default::default()
        };
        assert_eq!(
            check_class(&landscape, &portrait).unwrap_err().reason,
            Reason::Dimensions
        );
    }

    #[test]
    fn page_counts_are_bounded() {
        let mut class = letter();
        class.max_pages = Some(2);
        let facts = DocumentFacts {
            pages: Some(3),
            page_sizes: vec![(612.0, 792.0); 3],
            ..Default::default()
        };
        assert_eq!(
            check_class(&facts, &class).unwrap_err().reason,
            Reason::PageCount
        );
    }

    #[test]
    fn preflight_follows_the_rules() {
        let facts = DocumentFacts {
            encrypted: true,
            ..Default::default()
        };
        assert_eq!(check_preflight(&facts, &Preflight::default()), Ok(()));
        let strict = Preflight {
            forbid_encrypted: true,
            ..Preflight::default()
        };
        assert_eq!(
            check_preflight(&facts, &strict).unwrap_err().reason,
            Reason::Preflight
        );
    }
}
