//! Scopes and tenant isolation over every native endpoint, as one table:
//! for each endpoint, a key with an unrelated scope gets 403, another
//! tenant's admin gets 404 for ids it does not own, and a key with exactly
//! the documented scope (or the admin, for admin-only routes) gets a 2xx.

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::pdf;
use crate::harness::{Server, str_field};
use crate::http::{Auth, Reply};

enum Body {
    None,
    Json(Value),
    Upload,
}

struct Endpoint {
    method: Method,
    path: String,
    body: Body,
    /// The scope the contract names; `None` for admin-only routes.
    scope: Option<&'static str>,
    /// Whether the path names the default tenant's resources (another
    /// tenant must get 404), or is operator-only (another tenant's admin
    /// must be refused with 403 or 404).
    foreign: Foreign,
}

#[derive(PartialEq)]
enum Foreign {
    NotFound,
    Refused,
    NotApplicable,
}

fn endpoint(
    method: Method,
    path: String,
    body: Body,
    scope: Option<&'static str>,
    foreign: Foreign,
) -> Endpoint {
    Endpoint {
        method,
        path,
        body,
        scope,
        foreign,
    }
}

async fn send(server: &Server, auth: &Auth, e: &Endpoint) -> Reply {
    match &e.body {
        Body::None => server.call(auth, e.method.clone(), &e.path, None).await,
        Body::Json(body) => {
            server
                .call(auth, e.method.clone(), &e.path, Some(body))
                .await
        }
        Body::Upload => {
            let data = pdf();
            let project = e
                .path
                .trim_start_matches("/v1/projects/")
                .trim_end_matches("/files");
            server
                .upload_as(auth, project, &[("s.pdf", &data, "application/pdf")], &[])
                .await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_checks_scope_and_tenant() {
    let server = Server::start().await;
    let data = pdf();
    let f1 = str_field(
        &server
            .upload_one("default", "read.pdf", &data, "application/pdf")
            .await,
        "id",
    );
    let f2 = str_field(
        &server
            .upload_one("default", "delete.pdf", &data, "application/pdf")
            .await,
        "id",
    );
    let pid = str_field(
        &server
            .get("/v1/projects/default")
            .await
            .expect_status(200, "project")
            .json(),
        "id",
    );
    let scratch = str_field(&server.create_project("scratch", json!({})).await, "id");
    let spare = str_field(&server.create_project("spare", json!({})).await, "id");
    let folder = |name: &str| json!({"name": name, "parent_id": 0});
    let folders = format!("/v1/projects/{pid}/folders");
    let fa = server
        .post(&folders, folder("keep"))
        .await
        .expect_status(201, "folder")
        .json()["id"]
        .clone();
    let fb = server
        .post(&folders, folder("drop"))
        .await
        .expect_status(201, "folder")
        .json()["id"]
        .clone();
    let (key_id, _) = server.create_key(&["files:read"]).await;
    let user = server
        .post(
            "/v1/users",
            json!({"username": "bob", "password": "pw-bob-123", "scopes": ["files:read"]}),
        )
        .await
        .expect_status(201, "user")
        .json();
    let user_id = str_field(&user, "id");
    let other = server.create_tenant("other").await;
    let (_, unrelated) = server.create_key(&["lists:write"]).await;
    let unrelated = Auth::bearer(&unrelated);

    use Foreign::*;
    let get = Method::GET;
    let post = Method::POST;
    let del = Method::DELETE;
    let table = vec![
        endpoint(
            post.clone(),
            format!("/v1/projects/{pid}/files"),
            Body::Upload,
            Some("files:write"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            format!("/v1/projects/{pid}/files"),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            format!("/v1/files/{f1}"),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            format!("/v1/files/{f1}/content"),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            del.clone(),
            format!("/v1/files/{f2}"),
            Body::None,
            Some("files:delete"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            "/v1/projects".into(),
            Body::None,
            Some("files:read"),
            NotApplicable,
        ),
        endpoint(
            post.clone(),
            "/v1/projects".into(),
            Body::Json(json!({"slug": "made", "name": "Made"})),
            Some("projects:admin"),
            NotApplicable,
        ),
        endpoint(
            get.clone(),
            format!("/v1/projects/{pid}"),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            Method::PATCH,
            format!("/v1/projects/{spare}"),
            Body::Json(json!({"name": "Renamed"})),
            Some("projects:admin"),
            NotFound,
        ),
        endpoint(
            del.clone(),
            format!("/v1/projects/{scratch}"),
            Body::None,
            Some("projects:admin"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            folders.clone(),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            post.clone(),
            folders.clone(),
            Body::Json(folder("new")),
            Some("folders:write"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            format!("{folders}/{fa}"),
            Body::None,
            Some("files:read"),
            NotFound,
        ),
        endpoint(
            del.clone(),
            format!("{folders}/{fb}"),
            Body::None,
            Some("folders:write"),
            NotFound,
        ),
        endpoint(
            get.clone(),
            "/v1/keys".into(),
            Body::None,
            None,
            NotApplicable,
        ),
        endpoint(
            post.clone(),
            "/v1/keys".into(),
            Body::Json(json!({"name": "k", "scopes": ["files:read"]})),
            None,
            NotApplicable,
        ),
        endpoint(
            del.clone(),
            format!("/v1/keys/{key_id}"),
            Body::None,
            None,
            NotFound,
        ),
        endpoint(
            get.clone(),
            "/v1/users".into(),
            Body::None,
            None,
            NotApplicable,
        ),
        endpoint(
            post.clone(),
            "/v1/users".into(),
            Body::Json(
                json!({"username": "carol", "password": "pw-carol-123", "scopes": ["files:read"]}),
            ),
            None,
            NotApplicable,
        ),
        endpoint(
            del.clone(),
            format!("/v1/users/{user_id}"),
            Body::None,
            None,
            NotFound,
        ),
        endpoint(get.clone(), "/v1/tenants".into(), Body::None, None, Refused),
        endpoint(
            post.clone(),
            "/v1/tenants".into(),
            Body::Json(json!({"slug": "third", "name": "Third"})),
            None,
            Refused,
        ),
        endpoint(
            post.clone(),
            "/v1/tenants/third/keys".into(),
            Body::Json(json!({"name": "k", "scopes": ["files:read"]})),
            None,
            Refused,
        ),
        endpoint(
            post.clone(),
            "/v1/tenants/third/users".into(),
            Body::Json(
                json!({"username": "dan", "password": "pw-dan-1234", "scopes": ["files:read"]}),
            ),
            None,
            Refused,
        ),
        endpoint(
            post.clone(),
            "/v1/tenants/third/projects".into(),
            Body::Json(json!({"slug": "p3", "name": "P3"})),
            None,
            Refused,
        ),
    ];

    let mut failures = Vec::new();
    for e in &table {
        let name = format!("{} {}", e.method, e.path);
        let reply = send(&server, &unrelated, e).await;
        if let Err(why) = reply.check_problem(403, &["forbidden"]) {
            failures.push(format!("{name} with an unrelated scope: {why}"));
        }
        let reply = send(&server, &other, e).await;
        let checked = match e.foreign {
            NotFound => reply.check_problem(
                404,
                &[
                    "not_found",
                    "file_not_found",
                    "project_not_found",
                    "folder_not_found",
                ],
            ),
            Refused if !(reply.status == 403 || reply.status == 404) => Err(format!(
                "expected 403 or 404, got {} {}",
                reply.status,
                reply.text()
            )),
            _ => Ok(()),
        };
        if let Err(why) = checked {
            failures.push(format!("{name} as another tenant: {why}"));
        }
        let allowed = match e.scope {
            Some(scope) => Auth::bearer(&server.create_key(&[scope]).await.1),
            None => server.admin_auth(),
        };
        let reply = send(&server, &allowed, e).await;
        if !(200..300).contains(&reply.status) {
            failures.push(format!(
                "{name} with {:?}: expected 2xx, got {} {}",
                e.scope.unwrap_or("admin"),
                reply.status,
                reply.text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
