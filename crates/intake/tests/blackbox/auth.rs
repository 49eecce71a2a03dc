//! Credentials: bearer keys, Basic users (`user`, `user@tenant`, a key as
//! the Basic user), revocation, missing scopes, and tenant isolation
//! (another tenant's ids answer 404, never 403). Refused uploads store
//! nothing.

use reqwest::Method;
use serde_json::json;

use crate::fixtures::pdf;
use crate::harness::{Server, str_field};
use crate::http::{Auth, Reply};

fn expect_unauthorized(reply: &Reply, what: &str) {
    reply.expect_problem(401, "unauthorized", what);
    assert!(
        reply.header("www-authenticate").is_some(),
        "{what}: 401 without WWW-Authenticate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bad_and_revoked_keys_get_401() {
    let server = Server::start().await;
    let data = pdf();
    let files = [("a.pdf", &data[..], "application/pdf")];
    for (what, auth) in [
        ("no credentials", Auth::None),
        ("unknown key", Auth::bearer("not-a-real-key")),
        ("empty bearer", Auth::bearer("")),
    ] {
        expect_unauthorized(
            &server.call(&auth, Method::GET, "/v1/projects", None).await,
            what,
        );
        expect_unauthorized(&server.upload_as(&auth, "default", &files, &[]).await, what);
    }

    let (id, token) = server.create_key(&["files:read", "files:write"]).await;
    let key = Auth::bearer(&token);
    server
        .call(&key, Method::GET, "/v1/projects", None)
        .await
        .expect_status(200, "fresh key");
    let revoke = server
        .call(
            &server.admin_auth(),
            Method::DELETE,
            &format!("/v1/keys/{id}"),
            None,
        )
        .await;
    assert!(
        revoke.status / 100 == 2,
        "revoke: {} {}",
        revoke.status,
        revoke.text()
    );
    expect_unauthorized(
        &server.call(&key, Method::GET, "/v1/projects", None).await,
        "revoked key",
    );
    expect_unauthorized(
        &server.upload_as(&key, "default", &files, &[]).await,
        "revoked key upload",
    );

    assert_eq!(server.file_count("default").await, 0);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_sign_in_with_basic_auth() {
    let server = Server::start().await;
    server
        .post(
            "/v1/users",
            json!({"username": "alice", "password": "correct horse", "scopes": ["files:read", "files:write"]}),
        )
        .await
        .expect_status(201, "create user");
    let basic = |user: &str, pw: &str| Auth::Basic(user.into(), pw.into());
    for (what, auth) in [
        ("user:password", basic("alice", "correct horse")),
        (
            "user@tenant:password",
            basic("alice@default", "correct horse"),
        ),
        ("API key as Basic user", basic(server.admin_key(), "")),
    ] {
        let reply = server.call(&auth, Method::GET, "/v1/projects", None).await;
        reply.expect_status(200, what);
    }
    let data = pdf();
    let reply = server
        .upload_as(
            &basic("alice@default", "correct horse"),
            "default",
            &[("a.pdf", &data, "application/pdf")],
            &[],
        )
        .await;
    reply.expect_uploaded("upload as a Basic user");

    for (what, auth) in [
        ("wrong password", basic("alice", "wrong horse")),
        (
            "wrong password with tenant",
            basic("alice@default", "Correct horse"),
        ),
        ("unknown user", basic("mallory", "correct horse")),
        ("unknown tenant", basic("alice@nowhere", "correct horse")),
        ("empty password", basic("alice", "")),
    ] {
        expect_unauthorized(
            &server.call(&auth, Method::GET, "/v1/projects", None).await,
            what,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_the_scope_gets_403_and_stores_nothing() {
    let server = Server::start().await;
    let (_, token) = server.create_key(&["files:read"]).await;
    let data = pdf();
    let reply = server
        .upload_as(
            &Auth::bearer(&token),
            "default",
            &[("a.pdf", &data, "application/pdf")],
            &[],
        )
        .await;
    reply.expect_problem(403, "forbidden", "upload with files:read only");
    assert_eq!(server.file_count("default").await, 0);
    server.assert_no_staging_or_orphans().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_files_and_projects_are_404() {
    let server = Server::start().await;
    let data = pdf();
    let file = server
        .upload_one("default", "mine.pdf", &data, "application/pdf")
        .await;
    let id = str_field(&file, "id");
    let project_id = str_field(&file, "project_id");
    let other = server.create_tenant("other").await;

    let not_found = ["not_found", "file_not_found", "project_not_found"];
    for (method, path) in [
        (Method::GET, format!("/v1/files/{id}")),
        (Method::GET, format!("/v1/files/{id}/content")),
        (Method::DELETE, format!("/v1/files/{id}")),
        (Method::GET, format!("/v1/projects/{project_id}")),
        (Method::GET, format!("/v1/projects/{project_id}/files")),
        (Method::PATCH, format!("/v1/projects/{project_id}")),
        (Method::DELETE, format!("/v1/projects/{project_id}")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"name": "stolen"}));
        let reply = server
            .call(&other, method.clone(), &path, body.as_ref())
            .await;
        if let Err(e) = reply.check_problem(404, &not_found) {
            panic!("{method} {path} as another tenant: {e}");
        }
    }
    let reply = server
        .upload_as(
            &other,
            &project_id,
            &[("x.pdf", &data, "application/pdf")],
            &[],
        )
        .await;
    if let Err(e) = reply.check_problem(404, &not_found) {
        panic!("upload into another tenant's project: {e}");
    }

    // Untouched for its owner.
    let content = server.get(&format!("/v1/files/{id}/content")).await;
    assert_eq!(
        &content.expect_status(200, "owner reads").body[..],
        &data[..]
    );
    let project = server
        .get(&format!("/v1/projects/{project_id}"))
        .await
        .expect_status(200, "owner's project")
        .json();
    assert_ne!(project["name"], "stolen");
    assert_eq!(server.file_count("default").await, 1);
    assert!(server.list_all(&other, "main").await.is_empty());
    server.assert_no_staging_or_orphans().await;
}
