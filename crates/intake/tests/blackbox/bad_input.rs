//! Malformed uploads from docs/contract.md's error table: each must get
//! its status and problem `code`, and leave nothing behind (no listed
//! file, no staging file, no orphan blob). The cases run as tables on one
//! server and every failing row is reported, not just the first.

use crate::fixtures::{pdf, png};
use crate::harness::Server;
use crate::http::Form;

/// One malformed request and the answer it must get.
pub struct Case {
    pub what: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    pub codes: Vec<&'static str>,
}

impl Case {
    pub fn new(what: impl Into<String>, status: u16, codes: &[&'static str]) -> Case {
        Case {
            what: what.into(),
            path: "/v1/projects/default/files".into(),
            headers: Vec::new(),
            body: Vec::new(),
            status,
            codes: codes.to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Case {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A finished form with its own Content-Type.
    pub fn form(self, form: Form) -> Case {
        let content_type = form.content_type();
        let mut case = self.header("content-type", &content_type);
        case.body = form.finish();
        case
    }

    pub fn body(mut self, body: Vec<u8>) -> Case {
        self.body = body;
        self
    }

    pub fn path(mut self, path: &str) -> Case {
        self.path = path.into();
        self
    }
}

/// Sends every case, checks its answer and that nothing was stored, and
/// panics listing every row that failed.
pub async fn run_cases(server: &Server, cases: Vec<Case>) {
    let admin = server.admin_auth();
    let mut failures = Vec::new();
    for case in cases {
        let before = server.all_files(&admin).await.len();
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let reply = server
            .post_body(&server.admin_auth(), &case.path, &headers, case.body)
            .await;
        if let Err(e) = reply.check_problem(case.status, &case.codes) {
            failures.push(format!("{}: {e}", case.what));
        }
        let after = server.all_files(&admin).await.len();
        if after != before {
            failures.push(format!(
                "{}: {} new file(s) listed",
                case.what,
                after - before
            ));
        }
    }
    server.assert_no_staging_or_orphans().await;
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn pdf_form() -> Form {
    Form::new().file("file", b"letter.pdf", "application/pdf", &pdf())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_content_types_are_refused() {
    let server = Server::start().await;
    let form = pdf_form();
    let good_type = form.content_type();
    let body = form.finish();
    let cases = vec![
        Case::new("no Content-Type", 415, &["missing_content_type"]).body(body.clone()),
        Case::new("text/plain", 415, &["unsupported_content_type"])
            .header("content-type", "text/plain")
            .body(body.clone()),
        Case::new("application/json", 415, &["unsupported_content_type"])
            .header("content-type", "application/json")
            .body(b"{}".to_vec()),
        Case::new("unparseable Content-Type", 400, &["malformed_content_type"])
            .header("content-type", "not a media type")
            .body(body.clone()),
        Case::new("two Content-Type headers", 400, &["malformed_content_type"])
            .header("content-type", &good_type)
            .header("content-type", "text/plain")
            .body(body.clone()),
        Case::new("multipart without boundary", 400, &["missing_boundary"])
            .header("content-type", "multipart/form-data")
            .body(b"hello, this is not multipart\r\n".to_vec()),
        Case::new("boundary never appears", 400, &["truncated_body"])
            .header(
                "content-type",
                "multipart/form-data; boundary=nowhere-to-be-seen",
            )
            .body(b"some text that never mentions the boundary\r\n".to_vec()),
    ];
    run_cases(&server, cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_multipart_bodies_are_refused() {
    let server = Server::start().await;
    let data = pdf();

    let truncated = {
        let form = pdf_form();
        let content_type = form.content_type();
        let mut body = form.finish();
        body.truncate(body.len() - data.len() / 2 - 40);
        Case::new("body cut inside the file", 400, &["truncated_body"])
            .header("content-type", &content_type)
            .body(body)
    };
    let unclosed = {
        let form = pdf_form();
        let content_type = form.content_type();
        Case::new("no closing boundary", 400, &["truncated_body"])
            .header("content-type", &content_type)
            .body(form.unfinished())
    };
    let nameless = Form::new().part(
        b"Content-Disposition: form-data; filename=\"a.pdf\"\r\nContent-Type: application/pdf",
        &data,
    );
    let bad_headers = Form::new().part(
        b"Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nthis line is not a header",
        &data,
    );
    let cases = vec![
        truncated,
        unclosed,
        Case::new("part without name", 400, &["part_without_name"]).form(nameless),
        Case::new("unparseable part headers", 400, &["malformed_part_headers"]).form(bad_headers),
        Case::new("no file part", 400, &["missing_file"]).form(Form::new().field("name", "x")),
        Case::new("file under another name", 400, &["unexpected_file"]).form(Form::new().file(
            "attachment",
            b"a.pdf",
            "application/pdf",
            &data,
        )),
        Case::new("meta with an object value", 400, &["invalid_metadata"])
            .form(pdf_form().field("meta", r#"{"a":{"b":1}}"#)),
        Case::new("meta not JSON", 400, &["invalid_metadata"])
            .form(pdf_form().field("meta", "customer=42")),
        Case::new("meta an array", 400, &["invalid_metadata"])
            .form(pdf_form().field("meta", r#"["a"]"#)),
        Case::new("field not UTF-8", 400, &["invalid_field"]).form(pdf_form().part(
            b"Content-Disposition: form-data; name=\"name\"",
            b"\xff\xfe bad",
        )),
    ];
    run_cases(&server, cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_file_names_are_refused() {
    let server = Server::start().await;
    let data = pdf();
    let long = format!("{}.pdf", "a".repeat(252));
    let names: Vec<(&str, &[u8])> = vec![
        ("../x.pdf", b"../x.pdf"),
        ("a/b.pdf", b"a/b.pdf"),
        ("/etc/x.pdf", b"/etc/x.pdf"),
        ("a\\b.pdf", b"a\\b.pdf"),
        ("..", b".."),
        (".", b"."),
        ("256 bytes", long.as_bytes()),
    ];
    let mut cases: Vec<Case> = names
        .into_iter()
        .map(|(what, name)| {
            Case::new(format!("filename {what}"), 400, &["invalid_filename"])
                .form(Form::new().file("file", name, "application/pdf", &data))
        })
        .collect();
    // Raw NUL and control bytes in a header may already fail header parsing.
    for (what, name) in [
        ("NUL", &b"a\0b.pdf"[..]),
        ("\\x01", b"a\x01b.pdf"),
        ("DEL", b"a\x7fb.pdf"),
        ("ESC", b"\x1b[31mred.pdf"),
    ] {
        cases.push(
            Case::new(
                format!("filename with {what}"),
                400,
                &["invalid_filename", "malformed_part_headers"],
            )
            .form(Form::new().file("file", name, "application/pdf", &data)),
        );
    }
    run_cases(&server, cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_targets_and_contradicted_formats_are_refused() {
    let server = Server::start().await;
    let (data, image) = (pdf(), png());
    let cases = vec![
        Case::new("unknown project", 404, &["project_not_found"])
            .path("/v1/projects/no-such-project/files")
            .form(pdf_form()),
        Case::new("unknown folder", 404, &["folder_not_found"])
            .form(pdf_form().field("folder_id", "987654")),
        Case::new("folder id not a number", 400, &["invalid_folder"])
            .form(pdf_form().field("folder_id", "abc")),
        Case::new("PNG declared application/pdf", 415, &["format_mismatch"])
            .form(Form::new().file("file", b"pixel", "application/pdf", &image)),
        Case::new("PNG named x.pdf", 415, &["format_mismatch"]).form(Form::new().file(
            "file",
            b"x.pdf",
            "application/octet-stream",
            &image,
        )),
        Case::new("PDF declared image/png", 415, &["format_mismatch"]).form(Form::new().file(
            "file",
            b"letter",
            "image/png",
            &data,
        )),
    ];
    run_cases(&server, cases).await;
}
