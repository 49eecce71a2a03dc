//! The served OpenAPI document against the routes the server really has:
//! it is OpenAPI 3.1, it names the main routes, and every path and method
//! in it answers something other than 404/405 when called with real ids.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::fixtures::pdf;
use crate::harness::{Server, str_field};
use crate::http::Reply;

/// `/v1/files/{file_id}` → `/v1/files/{}`, so parameter names don't matter.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

const MAIN_ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/projects/{}/files"),
    ("get", "/v1/projects/{}/files"),
    ("get", "/v1/files/{}"),
    ("delete", "/v1/files/{}"),
    ("get", "/v1/files/{}/content"),
    ("get", "/v1/projects"),
    ("post", "/v1/projects"),
    ("get", "/v1/projects/{}"),
    ("patch", "/v1/projects/{}"),
    ("delete", "/v1/projects/{}"),
    ("get", "/v1/projects/{}/folders"),
    ("post", "/v1/projects/{}/folders"),
    ("get", "/v1/projects/{}/folders/{}"),
    ("delete", "/v1/projects/{}/folders/{}"),
    ("get", "/v1/keys"),
    ("post", "/v1/keys"),
    ("delete", "/v1/keys/{}"),
    ("get", "/v1/users"),
    ("post", "/v1/users"),
    ("delete", "/v1/users/{}"),
    ("get", "/v1/tenants"),
    ("post", "/v1/tenants"),
];

/// Ids that exist, one set for reads and one to be consumed by DELETEs.
struct Ids {
    file: String,
    folder: String,
    key: String,
    user: String,
}

/// Fills a path template from the segment before each parameter.
fn fill(path: &str, project: &str, ids: &Ids) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        if !seg.starts_with('{') {
            out.push(seg.to_string());
            continue;
        }
        let value = match segments.get(i.wrapping_sub(1)).copied().unwrap_or_default() {
            "files" => ids.file.clone(),
            "folders" => ids.folder.clone(),
            "keys" => ids.key.clone(),
            "users" => ids.user.clone(),
            "projects" => project.to_owned(),
            _ => "default".to_owned(), // tenants, and anything else named by slug
        };
        out.push(value);
    }
    out.join("/")
}

async fn make_ids(server: &Server, project: &str, tag: &str) -> Ids {
    let file = server
        .upload_one(project, &format!("{tag}.pdf"), &pdf(), "application/pdf")
        .await;
    let folder = server
        .post(
            &format!("/v1/projects/{project}/folders"),
            json!({"name": tag, "parent_id": 0}),
        )
        .await
        .expect_status(201, "folder")
        .json();
    let (key, _) = server.create_key(&["files:read"]).await;
    let user = server
        .post(
            "/v1/users",
            json!({"username": format!("user-{tag}"), "password": "a-long-password", "scopes": []}),
        )
        .await
        .expect_status(201, "user")
        .json();
    Ids {
        file: str_field(&file, "id"),
        folder: folder["id"].to_string(),
        key,
        user: str_field(&user, "id"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_routes() {
    let server = Server::start().await;
    let reply = Reply::from(server.client().get(server.url("/openapi.json"))).await;
    let doc = reply.expect_status(200, "openapi.json").json();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi version {version:?}");
    let paths = doc["paths"].as_object().expect("paths object");

    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let path = shape(path);
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let missing: Vec<_> = MAIN_ROUTES
        .iter()
        .filter(|(m, p)| !documented.contains(&(m.to_string(), p.to_string())))
        .collect();
    assert!(
        missing.is_empty(),
        "main routes missing from the document: {missing:?}"
    );

    server.create_project("doomed", json!({})).await;
    let reads = make_ids(&server, "default", "read").await;
    let doomed = make_ids(&server, "doomed", "doomed").await;
    let mut calls: Vec<(Method, String, Option<Value>)> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().into_iter().flat_map(|ops| ops.keys()) {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if ![
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ]
            .contains(&method)
            {
                continue;
            }
            let (project, ids) = if method == Method::DELETE {
                ("doomed", &doomed)
            } else {
                ("default", &reads)
            };
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            calls.push((method, fill(path, project, ids), body));
        }
    }
    // Deletes last, projects after what lives in them.
    calls.sort_by_key(|(m, p, _)| {
        (
            *m == Method::DELETE,
            p.matches('/').count() == 3 && p.starts_with("/v1/projects/"),
        )
    });

    let mut failures = Vec::new();
    for (method, path, body) in &calls {
        let reply = server
            .call(&server.admin_auth(), method.clone(), path, body.as_ref())
            .await;
        // A 404 for an id the test cannot make (an activity, a delivery)
        // still proves the route: only the router's own 404 does not.
        let no_route = reply.status == 404 && !reply.text().contains("_not_found\"");
        if no_route || reply.status == 405 {
            failures.push(format!(
                "{method} {path}: {} {}",
                reply.status,
                reply.text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "documented routes that do not answer:\n{}",
        failures.join("\n")
    );
}
