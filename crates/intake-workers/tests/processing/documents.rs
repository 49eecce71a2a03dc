//! Test documents, built here: PDFs written by hand (with a correct xref table), a ZIP bomb
//! dressed as a DOCX, EICAR, and the encrypted PDF fixture intake-inspect keeps.

use std::io::{Cursor, Write};

pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
pub const LETTER: (f64, f64) = (612.0, 792.0);
pub const A4: (f64, f64) = (595.28, 841.89);

/// A PDF with one page per size, plus an unreferenced stream of `filler` bytes (to make it big).
pub fn pdf(pages: &[(f64, f64)], filler: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", i + 3)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    ];
    for (w, h) in pages {
        objects
            .push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] >>").into_bytes());
    }
    if filler > 0 {
        let mut stream = format!("<< /Length {filler} >>\nstream\n").into_bytes();
        stream.extend(std::iter::repeat_n(b'%', filler));
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for offset in offsets {
        writeln!(out, "{offset:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .unwrap();
    out
}

/// Not a PDF at all past its header.
pub fn broken_pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage garbage\n%%EOF".to_vec()
}

/// Two pages (Letter, A4), encrypted with a user password (qpdf; see intake-inspect's fixtures).
pub fn encrypted_pdf() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../intake-inspect/tests/fixtures/encrypted-user-password.pdf"
    );
    std::fs::read(path).unwrap()
}

/// A DOCX-shaped ZIP whose document part is 16 MiB of zeros: a ratio near 1000:1.
pub fn zip_bomb_docx() -> Vec<u8> {
    let content_types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("[Content_Types].xml", options).unwrap();
    writer.write_all(content_types.as_bytes()).unwrap();
    writer.start_file("word/document.xml", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        writer.write_all(&zeros).unwrap();
    }
    writer.finish().unwrap().into_inner()
}
