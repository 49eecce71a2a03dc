//! The command line: `intake admin …` on the data directory of a running
//! server (its secrets must work over HTTP at once), and the client
//! commands `intake upload` / `intake files ls|get|rm` against it.

use std::process::Output;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::fixtures::{pseudo_random, sha256_hex};
use crate::harness::{Server, run};
use crate::http::Auth;

/// The last word of a command's stdout: the secret or id it printed.
fn printed(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .last()
        .unwrap_or_else(|| panic!("nothing printed"))
        .to_owned()
}

/// The `key_…` id on the `key ls` line that mentions `name`.
fn key_id(listing: &str, name: &str) -> String {
    listing
        .lines()
        .filter(|line| line.contains(name))
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .find(|word| word.starts_with("key_"))
        .unwrap_or_else(|| panic!("no key_ id for {name:?} in:\n{listing}"))
        .to_owned()
}

async fn status_of(server: &Server, auth: &Auth) -> u16 {
    server
        .call(auth, Method::GET, "/v1/projects", None)
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_create_working_credentials() {
    let server = Server::start().await;
    let tenant = server.admin(&["tenant", "create", "acme"]).await;
    assert!(
        printed(&tenant).starts_with("ten_"),
        "tenant create printed {tenant:?}"
    );
    assert!(server.admin(&["tenant", "ls"]).await.contains("acme"));
    let project = server
        .admin(&["project", "create", "docs", "--tenant", "acme"])
        .await;
    assert!(
        printed(&project).starts_with("prj_"),
        "project create printed {project:?}"
    );

    let out = server
        .admin(&[
            "key",
            "create",
            "--tenant",
            "acme",
            "--name",
            "cli-key",
            "--scopes",
            "files:read files:write",
        ])
        .await;
    let key = Auth::bearer(&printed(&out));
    let projects = server.call(&key, Method::GET, "/v1/projects", None).await;
    assert!(
        projects
            .expect_status(200, "the new key works")
            .text()
            .contains("docs")
    );

    let out = server
        .admin_output(
            &[
                "user",
                "create",
                "alice",
                "--tenant",
                "acme",
                "--scopes",
                "files:read",
                "--password-stdin",
            ],
            Some("pw-alice-1\n"),
        )
        .await;
    assert!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alice = |pw: &str| Auth::Basic("alice@acme".into(), pw.into());
    assert_eq!(
        status_of(&server, &alice("pw-alice-1")).await,
        200,
        "alice@acme with her password"
    );
    assert_eq!(
        status_of(&server, &alice("pw-alice-2")).await,
        401,
        "a wrong password"
    );

    let listing = server.admin(&["key", "ls", "--tenant", "acme"]).await;
    let id = key_id(&listing, "cli-key");
    server
        .admin(&["key", "revoke", &id, "--tenant", "acme"])
        .await;
    // Revocation must take effect without a restart; allow a short cache.
    let deadline = Instant::now() + Duration::from_secs(5);
    while status_of(&server, &key).await != 401 {
        assert!(
            Instant::now() < deadline,
            "the revoked key still works after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the client binary against `server` with `INTAKE_URL`/`INTAKE_KEY`.
async fn client_cli(server: &Server, args: &[&str]) -> Output {
    let mut cmd = server.command();
    cmd.args(args)
        .env("INTAKE_URL", server.base_url())
        .env("INTAKE_KEY", server.admin_key())
        .current_dir(server.temp_dir());
    let out = run(cmd, None).await;
    assert!(
        out.status.success(),
        "intake {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_upload_list_get_and_remove() {
    let server = Server::start().await;
    let data = pseudo_random(300, 300 << 10);
    let source = server.temp_dir().join("report.bin");
    std::fs::write(&source, &data).expect("write the source file");
    let source_text = source.to_str().expect("UTF-8 temp path");

    let out = client_cli(&server, &["upload", source_text, "--project", "default"]).await;
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let fields: Vec<&str> = stdout.trim_end().split('\t').collect();
    assert_eq!(
        fields.len(),
        3,
        "upload printed {stdout:?}, not <id>\\t<path>\\t<status>"
    );
    let id = fields[0].to_owned();
    assert!(id.starts_with("file_"), "{stdout:?}");
    assert_eq!(fields[1], source_text);

    let stored = server
        .get(&format!("/v1/files/{id}"))
        .await
        .expect_status(200, "uploaded file")
        .json();
    assert_eq!(stored["sha256"].as_str(), Some(sha256_hex(&data).as_str()));

    let listing = client_cli(&server, &["files", "ls"]).await;
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains(&id),
        "files ls does not list {id}"
    );

    let target = server.temp_dir().join("copy.bin");
    client_cli(
        &server,
        &["files", "get", &id, "-o", target.to_str().expect("UTF-8")],
    )
    .await;
    let copy = std::fs::read(&target).expect("the downloaded copy");
    assert_eq!(
        sha256_hex(&copy),
        sha256_hex(&data),
        "files get wrote other bytes"
    );

    client_cli(&server, &["files", "rm", &id]).await;
    server.get(&format!("/v1/files/{id}")).await.expect_problem(
        404,
        "file_not_found",
        "after files rm",
    );
}
