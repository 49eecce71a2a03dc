//! 000, mailing documents (`POST /molpro/documents`), driven by the seed's
//! own Python sample (`requests` + `requests_toolbelt`'s MultipartEncoder,
//! `tests/clients/mailing_upload.py`) against a tenant set up with the
//! README's `intake admin` commands: the success answer with the real page
//! count, then every row of the seed's error table.
//!
//! The rows after parsing (pages, dimensions, preflight, unrenderable) need
//! the processing workers; without them the first upload answers 503 and
//! the test says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;

use crate::harness::{Server, run};
use crate::http::Auth;

const USER: &str = "awesomeuser";
const PASSWORD: &str = "gReAt/PaSsWoRd123";

/// The mailing project's policy: duplicates refused (status 1), encrypted
/// PDFs refused by preflight (status 5), a class with a page limit.
const POLICY: &str = r#"{"duplicates":"reject","respond":"sync","wait_seconds":15,
  "preflight":{"forbid_encrypted":true},
  "document_classes":[{"name":"Letter 2 pages","width_pt":612,"height_pt":792,"max_pages":2}]}"#;

/// A well-formed PDF with `pages` pages of `width` × `height` points.
pub fn pdf_pages(pages: usize, width: f64, height: f64) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", i + 3)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        ),
    ];
    for _ in 0..pages {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Resources << >> >>"
        ));
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// What the sample printed: status, body, and stderr.
struct Answer {
    status: u16,
    body: String,
    stderr: String,
}

async fn mailing_client(
    server: &Server,
    user: &str,
    password: &str,
    file: &Path,
    options: &[&str],
) -> Answer {
    let mut cmd = Command::new("python3");
    cmd.arg(clients_dir().join("mailing_upload.py"))
        .arg(server.url("/molpro/documents"))
        .args([user, password])
        .arg(file)
        .args(options);
    let out = run(cmd, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "the mailing sample failed (is `pip install requests requests-toolbelt` done? see scripts/ci-install.sh):\n{stderr}"
    );
    let (status, body) = stdout.split_once('\n').unwrap_or((&stdout, ""));
    Answer {
        status: status
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no status in {stdout:?}")),
        body: body.trim().to_owned(),
        stderr,
    }
}

fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// Sets the tenant up as the README says; returns a read key for the
/// native API.
async fn set_up(server: &Server) -> Auth {
    server.admin(&["tenant", "create", "acme"]).await;
    server
        .admin(&[
            "project",
            "set-policy",
            "default",
            "--tenant",
            "acme",
            "--policy",
            POLICY,
        ])
        .await;
    let out = server
        .admin_output(
            &[
                "user",
                "create",
                USER,
                "--tenant",
                "acme",
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = server
        .admin(&[
            "key",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "files:read",
        ])
        .await;
    Auth::bearer(key.trim())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailing_seed_client_gets_every_row_of_the_table() {
    let server = Server::start().await;
    let reader = set_up(&server).await;
    let dir = server.temp_dir().join("mailing");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    };
    let letter = write("TestLetter.pdf", &pdf_pages(1, 612.0, 792.0));

    // Success: 201, the seed's XML, the real page count.
    let ok = mailing_client(&server, USER, PASSWORD, &letter, &[]).await;
    assert_ne!(
        ok.status, 503,
        "processing did not finish: are the workers running in `intake serve`? {}",
        ok.body
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert!(
        ok.body
            .starts_with(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#),
        "{}",
        ok.body
    );
    assert_eq!(element(&ok.body, "status"), Some("0"), "{}", ok.body);
    assert_eq!(element(&ok.body, "description"), Some("Success"));
    assert_eq!(element(&ok.body, "pages"), Some("1"));
    let id = element(&ok.body, "id").expect("an id").to_owned();

    // The native API shows it under documentName, with its class.
    let file = server
        .call(&reader, Method::GET, &format!("/v1/files/{id}"), None)
        .await;
    let file = file
        .expect_status(200, "the document in the native API")
        .json();
    assert_eq!(file["name"], "Test Letter PDF");
    assert_eq!(file["document_class"], "Letter 8.5 x 11");
    assert_eq!(file["status"], "ready");

    let three_pages = write("three.pdf", &pdf_pages(3, 612.0, 792.0));
    let a4 = write("a4.pdf", &pdf_pages(1, 595.28, 841.89));
    let encrypted = write(
        "encrypted.pdf",
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../intake-inspect/tests/fixtures/encrypted-user-password.pdf"),
        )
        .expect("the encrypted fixture"),
    );
    // A PDF header, then nothing a parser can use.
    let mut broken_bytes = b"%PDF-1.4\n".to_vec();
    broken_bytes.extend(crate::fixtures::pseudo_random(7, 4000));
    let broken = write("broken.pdf", &broken_bytes);
    let png = write("image.png", &crate::fixtures::png());
    let other_letter = write("other.pdf", &pdf_pages(2, 612.0, 792.0));

    // (what, file, options, HTTP status, status number, description contains)
    type Row<'a> = (&'a str, &'a Path, Vec<&'a str>, u16, &'a str, &'a str);
    let rows: Vec<Row> = vec![
        ("duplicate", &letter, vec![], 400, "1", "Duplicate Document"),
        (
            "A4 as Letter",
            &a4,
            vec![],
            400,
            "2",
            "Document Dimensions outside of range",
        ),
        (
            "three pages, two allowed",
            &three_pages,
            vec!["--class", "Letter 2 pages"],
            400,
            "3",
            "page",
        ),
        (
            "two pages, two allowed",
            &other_letter,
            vec!["--class", "Letter 2 pages"],
            201,
            "0",
            "Success",
        ),
        (
            "broken PDF",
            &broken,
            vec![],
            400,
            "4",
            "Could not render document",
        ),
        (
            "PNG bytes as a PDF",
            &png,
            vec![],
            400,
            "4",
            "Could not render document",
        ),
        ("encrypted PDF", &encrypted, vec![], 400, "5", "encrypted"),
        (
            "no documentClass",
            &letter,
            vec!["--omit", "documentClass"],
            400,
            "9",
            "One of the required parameters is missing.",
        ),
        (
            "no documentName",
            &letter,
            vec!["--omit", "documentName"],
            400,
            "9",
            "One of the required parameters is missing.",
        ),
        (
            "no file",
            &letter,
            vec!["--omit", "file"],
            400,
            "9",
            "Parameter 'file' is must.",
        ),
        (
            "TXT format",
            &letter,
            vec![
                "--format",
                "TXT",
                "--part-name",
                "file.txt",
                "--content-type",
                "text/plain",
            ],
            400,
            "9",
            "Only pdf, doc, docx, pub, ppt, pptx, png, jpeg, and odt formats are allowed.",
        ),
        (
            "extension is not the format",
            &png,
            vec!["--part-name", "file.png", "--content-type", "image/png"],
            400,
            "9",
            "extension",
        ),
        (
            "unknown class",
            &letter,
            vec!["--class", "Envelope"],
            400,
            "9",
            "Envelope",
        ),
        (
            "PNG declared and sent",
            &png,
            vec![
                "--format",
                "PNG",
                "--part-name",
                "file.png",
                "--content-type",
                "image/png",
            ],
            201,
            "0",
            "Success",
        ),
    ];
    let mut failures = Vec::new();
    for (what, file, options, http, status, description) in rows {
        let answer = mailing_client(&server, USER, PASSWORD, file, &options).await;
        let good = answer.status == http
            && element(&answer.body, "status") == Some(status)
            && element(&answer.body, "description").is_some_and(|d| d.contains(description))
            && answer.body.starts_with("<?xml");
        if !good {
            failures.push(format!("{what}: {} {}", answer.status, answer.body));
        }
    }
    assert!(
        failures.is_empty(),
        "rows answered wrongly:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailing_bad_credentials_answer_401_in_xml() {
    let server = Server::start().await;
    set_up(&server).await;
    let letter = server.temp_dir().join("TestLetter.pdf");
    std::fs::write(&letter, pdf_pages(1, 612.0, 792.0)).expect("write");
    for (user, password) in [
        (USER, "wrong"),
        ("nobody", PASSWORD),
        ("awesomeuser@other", PASSWORD),
    ] {
        let answer = mailing_client(&server, user, password, &letter, &[]).await;
        assert_eq!(answer.status, 401, "{user}: {}", answer.body);
        assert_eq!(
            element(&answer.body, "status"),
            Some("401"),
            "{}",
            answer.body
        );
        assert!(
            answer.stderr.contains("Basic"),
            "WWW-Authenticate: {}",
            answer.stderr
        );
    }
    // user@tenant signs in as well as the bare name (here to a parameter error).
    let answer = mailing_client(
        &server,
        "awesomeuser@acme",
        PASSWORD,
        &letter,
        &["--omit", "documentClass"],
    )
    .await;
    assert_eq!(
        (answer.status, element(&answer.body, "status")),
        (400, Some("9")),
        "{}",
        answer.body
    );
}
