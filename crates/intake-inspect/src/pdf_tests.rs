//! PDF fixtures are built with lopdf itself; only the encrypted ones are
//! committed (tests/fixtures, made with qpdf, see the README there).

use super::*;
use lopdf::{Stream, dictionary};
use std::io::Cursor;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn rect(r: [f32; 4]) -> Object {
    Object::Array(r.iter().map(|v| Object::Real(*v)).collect())
}

/// A PDF whose page tree root gets `tree` entries, whose pages are `pages`
/// (direct kids of the root) and whose catalog gets `catalog` entries.
fn build(tree: Dictionary, pages: Vec<Dictionary>, catalog: Dictionary) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let tree_id = doc.new_object_id();
    let mut kids = Vec::new();
    for mut page in pages {
        page.set("Type", "Page");
        page.set("Parent", tree_id);
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let mut root = dictionary! { "Type" => "Pages", "Count" => kids.len() as i64 };
    root.set("Kids", kids);
    for (key, value) in tree.into_iter() {
        root.set(key, value);
    }
    doc.objects.insert(tree_id, Object::Dictionary(root));
    let mut cat = dictionary! { "Type" => "Catalog", "Pages" => tree_id };
    for (key, value) in catalog.into_iter() {
        cat.set(key, value);
    }
    let cat_id = doc.add_object(cat);
    doc.trailer.set("Root", cat_id);
    let mut out = Vec::new();
    let _ = doc.save_to(&mut out);
    out
}

fn page(media: [f32; 4]) -> Dictionary {
    dictionary! { "MediaBox" => rect(media) }
}

fn run(bytes: &[u8], limits: &Limits) -> Result<Properties, InspectError> {
    inspect(Cursor::new(bytes), bytes.len() as u64, limits)
}

fn sizes(props: &Properties) -> Vec<(f64, f64, f64, f64, u16)> {
    let sizes = props.page_sizes.iter();
    sizes
        .map(|s| (s.width_pt, s.height_pt, s.width_in, s.height_in, s.rotation))
        .collect()
}

#[test]
fn letter_page() -> TestResult {
    let bytes = build(
        Dictionary::new(),
        vec![page([0.0, 0.0, 612.0, 792.0])],
        Dictionary::new(),
    );
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(props.pages, Some(1));
    assert_eq!(sizes(&props), vec![(612.0, 792.0, 8.5, 11.0, 0)]);
    assert_eq!(props.page_sizes[0].crop_box, None);
    assert_eq!(props.pdf_version.as_deref(), Some("1.7"));
    assert_eq!(props.encrypted, Some(false));
    assert_eq!(props.has_javascript, Some(false));
    assert_eq!(props.has_embedded_files, Some(false));
    Ok(())
}

#[test]
fn three_a4_pages() -> TestResult {
    let a4 = [0.0, 0.0, 595.28, 841.89];
    let bytes = build(
        Dictionary::new(),
        vec![page(a4), page(a4), page(a4)],
        Dictionary::new(),
    );
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(props.pages, Some(3));
    assert_eq!(sizes(&props), vec![(595.28, 841.89, 8.27, 11.69, 0); 3]);
    Ok(())
}

#[test]
fn crop_box_and_rotation_give_the_visible_size() -> TestResult {
    let mut p = page([0.0, 0.0, 612.0, 792.0]);
    p.set("CropBox", rect([36.0, 36.0, 576.0, 756.0]));
    p.set("Rotate", 90);
    let bytes = build(Dictionary::new(), vec![p], Dictionary::new());
    let props = run(&bytes, &Limits::default())?;
    // 540 x 720 cropped, shown turned a quarter: 720 wide.
    assert_eq!(sizes(&props), vec![(720.0, 540.0, 10.0, 7.5, 90)]);
    assert_eq!(
        props.page_sizes[0].crop_box,
        Some([36.0, 36.0, 576.0, 756.0])
    );
    assert_eq!(props.page_sizes[0].media_box, [0.0, 0.0, 612.0, 792.0]);
    Ok(())
}

#[test]
fn media_box_and_rotate_are_inherited() -> TestResult {
    let tree = dictionary! { "MediaBox" => rect([0.0, 0.0, 420.0, 595.0]), "Rotate" => 180 };
    let own = page([0.0, 0.0, 100.0, 200.0]);
    let mut negative = Dictionary::new();
    negative.set("Rotate", -90); // same as 270
    let bytes = build(
        tree,
        vec![Dictionary::new(), own, negative],
        Dictionary::new(),
    );
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(
        sizes(&props),
        vec![
            (420.0, 595.0, 5.83, 8.26, 180),
            (100.0, 200.0, 1.39, 2.78, 180),
            (595.0, 420.0, 8.26, 5.83, 270)
        ]
    );
    Ok(())
}

#[test]
fn nested_page_tree_keeps_order() -> TestResult {
    let mut doc = Document::with_version("1.4");
    let root_id = doc.new_object_id();
    let inner_id = doc.new_object_id();
    let first = doc
        .add_object(dictionary! { "Type" => "Page", "MediaBox" => rect([0.0, 0.0, 100.0, 100.0]) });
    let second = doc.add_object(dictionary! { "Type" => "Page" });
    let inner = dictionary! { "Type" => "Pages", "Kids" => vec![second.into()], "MediaBox" => rect([0.0, 0.0, 200.0, 300.0]) };
    doc.objects.insert(inner_id, Object::Dictionary(inner));
    // The root lists itself as a kid: the walk must not loop.
    let kids: Vec<Object> = vec![first.into(), inner_id.into(), root_id.into()];
    doc.objects.insert(
        root_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids }),
    );
    let cat = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root_id });
    doc.trailer.set("Root", cat);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(props.pages, Some(2));
    assert_eq!(
        sizes(&props),
        vec![(100.0, 100.0, 1.39, 1.39, 0), (200.0, 300.0, 2.78, 4.17, 0)]
    );
    Ok(())
}

#[test]
fn javascript_open_action_is_flagged() -> TestResult {
    let action =
        dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert(1)") };
    let catalog = dictionary! { "OpenAction" => action };
    let bytes = build(
        Dictionary::new(),
        vec![page([0.0, 0.0, 612.0, 792.0])],
        catalog,
    );
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(props.has_javascript, Some(true));
    assert_eq!(props.has_embedded_files, Some(false));
    Ok(())
}

#[test]
fn embedded_files_are_flagged() -> TestResult {
    let names = dictionary! { "EmbeddedFiles" => dictionary! { "Names" => Vec::<Object>::new() } };
    let bytes = build(
        Dictionary::new(),
        vec![page([0.0, 0.0, 612.0, 792.0])],
        dictionary! { "Names" => names },
    );
    let props = run(&bytes, &Limits::default())?;
    assert_eq!(props.has_embedded_files, Some(true));
    assert_eq!(props.has_javascript, Some(false));
    Ok(())
}

#[test]
fn page_sizes_stop_at_max_pages() -> TestResult {
    let p = page([0.0, 0.0, 612.0, 792.0]);
    let bytes = build(
        Dictionary::new(),
        vec![p.clone(), p.clone(), p],
        Dictionary::new(),
    );
    let limits = Limits {
        max_pages: 2,
        ..Limits::default()
    };
    let props = run(&bytes, &limits)?;
    assert_eq!(props.pages, Some(3));
    assert_eq!(props.page_sizes.len(), 2);
    assert_eq!(props.page_sizes_truncated, Some(true));
    Ok(())
}

#[test]
fn garbage_and_truncated_files_are_unrenderable() {
    let good = build(
        Dictionary::new(),
        vec![page([0.0, 0.0, 612.0, 792.0])],
        Dictionary::new(),
    );
    for bytes in [
        &b"hello"[..],
        b"%PDF-1.7\n%%EOF",
        b"%PDF-1.7\n1 0 obj << /Type",
        &good[..20],
    ] {
        let result = run(bytes, &Limits::default());
        assert!(
            matches!(result, Err(InspectError::Unrenderable(_))),
            "{bytes:?}: {result:?}"
        );
    }
}

#[test]
fn over_size_or_object_limits_is_refused() {
    let bytes = build(
        Dictionary::new(),
        vec![page([0.0, 0.0, 612.0, 792.0])],
        Dictionary::new(),
    );
    let small = Limits {
        max_pdf_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        run(&bytes, &small),
        Err(InspectError::LimitExceeded(_))
    ));
    // A lying size hint does not get past the read bound either.
    let lied = inspect(Cursor::new(&bytes), 10, &small);
    assert!(matches!(lied, Err(InspectError::LimitExceeded(_))));
    let few = Limits {
        max_pdf_objects: 2,
        ..Limits::default()
    };
    assert!(matches!(
        run(&bytes, &few),
        Err(InspectError::LimitExceeded(_))
    ));
}

#[test]
fn object_stream_bomb_is_refused() -> TestResult {
    let mut doc = Document::with_version("1.5");
    let mut content = b"2 0 ".to_vec();
    content.resize(4 << 20, b' ');
    // lopdf's writer drops object streams, so the type is renamed after saving.
    let mut bomb = Stream::new(
        dictionary! { "Type" => "ObjSxx", "N" => 1, "First" => 4 },
        content,
    );
    bomb.compress()?;
    doc.add_object(bomb);
    let tree = doc.add_object(dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new() });
    let cat = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", cat);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    let at = bytes
        .windows(7)
        .position(|w| w == b"/ObjSxx")
        .ok_or("no stream")?;
    bytes[at..at + 7].copy_from_slice(b"/ObjStm");
    let limits = Limits {
        max_pdf_stream_bytes: 1 << 20,
        ..Limits::default()
    };
    let result = run(&bytes, &limits);
    assert!(
        matches!(result, Err(InspectError::LimitExceeded(_))),
        "{result:?}"
    );
    Ok(())
}

fn fixture(name: &str) -> Result<Properties, Box<dyn std::error::Error>> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    Ok(inspect(file, size, &Limits::default())?)
}

#[test]
fn encrypted_with_empty_user_password_is_read_fully() -> TestResult {
    let props = fixture("encrypted-owner-only.pdf")?;
    assert_eq!(props.encrypted, Some(true));
    assert_eq!(props.pages, Some(2));
    assert_eq!(
        sizes(&props),
        vec![
            (612.0, 792.0, 8.5, 11.0, 0),
            (595.28, 841.89, 8.27, 11.69, 0)
        ]
    );
    Ok(())
}

#[test]
fn encrypted_with_user_password_still_counts_pages() -> TestResult {
    // The page tree is plain dictionaries, which encryption leaves readable.
    let props = fixture("encrypted-user-password.pdf")?;
    assert_eq!(props.encrypted, Some(true));
    assert_eq!(props.pages, Some(2));
    assert_eq!(props.page_sizes.len(), 2);
    Ok(())
}

#[test]
fn encrypted_object_streams_hide_the_pages_but_are_accepted() -> TestResult {
    let props = fixture("encrypted-objstm.pdf")?;
    assert_eq!(props.encrypted, Some(true));
    assert_eq!(props.pages, None);
    assert!(props.page_sizes.is_empty());
    Ok(())
}
