//! Management over HTTP: projects (create, list, get, update, delete only
//! when empty), nested folders (id 0 is the root), keys and users with
//! their listings, and tenants created by the operator.

use reqwest::Method;
use serde_json::json;

use crate::fixtures::pdf;
use crate::harness::{Server, items, str_field};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_are_managed_and_deleted_only_when_empty() {
    let server = Server::start().await;
    let admin = server.admin_auth();
    let project = server
        .create_project("letters", json!({"duplicates": "reject"}))
        .await;
    let id = str_field(&project, "id");
    assert_eq!(str_field(&project, "slug"), "letters");

    server
        .post("/v1/projects", json!({"slug": "letters", "name": "again"}))
        .await
        .expect_problem(409, "project_exists", "same slug twice");
    server
        .post("/v1/projects", json!({"slug": "Not A Slug!", "name": "x"}))
        .await
        .expect_problem(400, "invalid_slug", "bad slug");

    let listed = items(
        &server
            .get("/v1/projects")
            .await
            .expect_status(200, "list")
            .json(),
    );
    let slugs: Vec<String> = listed.iter().map(|p| str_field(p, "slug")).collect();
    assert!(
        slugs.contains(&"letters".into()) && slugs.contains(&"default".into()),
        "{slugs:?}"
    );

    for key in [id.as_str(), "letters"] {
        let got = server
            .get(&format!("/v1/projects/{key}"))
            .await
            .expect_status(200, "get")
            .json();
        assert_eq!(str_field(&got, "id"), id, "by {key}");
    }
    let patched = server
        .call(
            &admin,
            Method::PATCH,
            "/v1/projects/letters",
            Some(&json!({"name": "Letters 2026"})),
        )
        .await
        .expect_status(200, "patch name")
        .json();
    assert_eq!(str_field(&patched, "name"), "Letters 2026");

    let file = server
        .upload_one("letters", "a.pdf", &pdf(), "application/pdf")
        .await;
    server
        .call(&admin, Method::DELETE, "/v1/projects/letters", None)
        .await
        .expect_problem(409, "project_not_empty", "delete with a file");
    server
        .call(
            &admin,
            Method::DELETE,
            &format!("/v1/files/{}", str_field(&file, "id")),
            None,
        )
        .await
        .expect_status(204, "delete the file");
    server
        .call(&admin, Method::DELETE, "/v1/projects/letters", None)
        .await
        .expect_status(204, "delete the empty project");
    server.get("/v1/projects/letters").await.expect_problem(
        404,
        "project_not_found",
        "after delete",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_nest_and_hold_files() {
    let server = Server::start().await;
    let admin = server.admin_auth();
    let base = "/v1/projects/default/folders";
    let parent = server
        .post(base, json!({"name": "2026", "parent_id": 0}))
        .await
        .expect_status(201, "parent")
        .json();
    let parent_id = parent["id"].as_i64().expect("numeric folder id");
    assert!(parent_id > 0, "id 0 is the root");
    let child = server
        .post(base, json!({"name": "march", "parent_id": parent_id}))
        .await
        .expect_status(201, "child")
        .json();
    let child_id = child["id"].as_i64().expect("numeric folder id");
    server
        .post(base, json!({"name": "march", "parent_id": parent_id}))
        .await
        .expect_problem(409, "folder_exists", "same name in the same parent");
    server
        .post(base, json!({"name": "orphan", "parent_id": 999_999}))
        .await
        .expect_problem(404, "folder_not_found", "unknown parent");

    let got = server
        .get(&format!("{base}/{child_id}"))
        .await
        .expect_status(200, "get child")
        .json();
    assert_eq!(got["parent_id"].as_i64(), Some(parent_id));
    let under = items(
        &server
            .get(&format!("{base}?parent_id={parent_id}"))
            .await
            .expect_status(200, "list")
            .json(),
    );
    let ids: Vec<i64> = under.iter().filter_map(|f| f["id"].as_i64()).collect();
    assert_eq!(ids, vec![child_id], "children of the parent");

    let data = pdf();
    let child_text = child_id.to_string();
    let reply = server
        .upload(
            "default",
            &[("in-folder.pdf", &data, "application/pdf")],
            &[("folder_id", &child_text)],
        )
        .await;
    let file = reply.expect_uploaded("upload into the folder").json()["files"][0].clone();
    assert_eq!(file["folder_id"].as_i64(), Some(child_id));
    server
        .upload_one("default", "root.pdf", &pdf(), "application/pdf")
        .await;
    let page = server
        .get(&format!("/v1/projects/default/files?folder_id={child_id}"))
        .await
        .expect_status(200, "files in folder")
        .json();
    let in_folder: Vec<String> = page["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| str_field(f, "id"))
        .collect();
    assert_eq!(in_folder, vec![str_field(&file, "id")]);

    let delete = |id: i64| {
        let (server, admin, path) = (&server, admin.clone(), format!("{base}/{id}"));
        async move { server.call(&admin, Method::DELETE, &path, None).await }
    };
    delete(parent_id)
        .await
        .expect_problem(409, "folder_not_empty", "parent with a child");
    delete(child_id)
        .await
        .expect_problem(409, "folder_not_empty", "folder with a file");
    server
        .call(
            &admin,
            Method::DELETE,
            &format!("/v1/files/{}", str_field(&file, "id")),
            None,
        )
        .await
        .expect_status(204, "delete file");
    delete(child_id).await.expect_status(204, "empty child");
    delete(parent_id).await.expect_status(204, "empty parent");
    server
        .get(&format!("{base}/{parent_id}"))
        .await
        .expect_problem(404, "folder_not_found", "deleted folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_users_are_listed_without_secrets() {
    let server = Server::start().await;
    let (id, token) = server.create_key(&["files:read"]).await;
    let keys = server.get("/v1/keys").await.expect_status(200, "list keys");
    assert!(
        !keys.text().contains(&token),
        "a key listing must not show tokens"
    );
    assert!(
        items(&keys.json()).iter().any(|k| k["id"] == id),
        "{}",
        keys.text()
    );

    server
        .post(
            "/v1/users",
            json!({"username": "erin", "password": "erin-password", "scopes": ["files:read"]}),
        )
        .await
        .expect_status(201, "user");
    server
        .post(
            "/v1/users",
            json!({"username": "erin", "password": "other-password", "scopes": []}),
        )
        .await
        .expect_problem(409, "user_exists", "same username");
    let users = server
        .get("/v1/users")
        .await
        .expect_status(200, "list users");
    assert!(
        !users.text().contains("erin-password") && !users.text().contains("argon2"),
        "{}",
        users.text()
    );
    assert!(items(&users.json()).iter().any(|u| u["username"] == "erin"));
    server
        .post(
            "/v1/keys",
            json!({"name": "bad", "scopes": ["files:everything"]}),
        )
        .await
        .expect_status(400, "unknown scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_creates_tenants_that_are_isolated() {
    let server = Server::start().await;
    let acme = server.create_tenant("acme").await;
    server
        .post("/v1/tenants", json!({"slug": "acme", "name": "again"}))
        .await
        .expect_problem(409, "tenant_exists", "same tenant twice");
    let tenants = items(
        &server
            .get("/v1/tenants")
            .await
            .expect_status(200, "tenants")
            .json(),
    );
    assert!(tenants.iter().any(|t| t["slug"] == "acme"), "{tenants:?}");

    let data = pdf();
    let file = server
        .upload_as(&acme, "main", &[("a.pdf", &data, "application/pdf")], &[])
        .await;
    let file = file.expect_uploaded("upload as acme").json()["files"][0].clone();
    // acme's admin sees its own project only, not the operator's.
    let projects = items(
        &server
            .call(&acme, Method::GET, "/v1/projects", None)
            .await
            .expect_status(200, "list")
            .json(),
    );
    let slugs: Vec<String> = projects.iter().map(|p| str_field(p, "slug")).collect();
    assert!(slugs.contains(&"main".into()), "{slugs:?}");
    assert!(
        server.all_files(&server.admin_auth()).await.is_empty(),
        "the operator's listing shows acme's file"
    );
    let reply = server
        .get(&format!("/v1/files/{}", str_field(&file, "id")))
        .await;
    assert_eq!(
        reply.status,
        404,
        "tenants are isolated even from the operator's file routes: {}",
        reply.text()
    );
    server.assert_no_staging_or_orphans().await;
}
