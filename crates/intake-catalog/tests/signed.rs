#![expect(clippy::unwrap_used, reason = "a test fails loudly on any error")]

//! Signed direct uploads in the catalog: S3 credentials of API keys and
//! upload intents. `signed_story` takes any engine; it runs on SQLite and on
//! PostgreSQL (a database of its own; see `intake_catalog::testing`).

use chrono::Duration;
use intake_catalog::{Catalog, SqliteCatalog};
use intake_core::*;
use std::sync::Arc;

async fn signed_story(db: Arc<dyn Catalog>) {
    let tenant = Tenant {
        id: new_id("ten"),
        slug: "acme".into(),
        name: "Acme".into(),
        created_at: now(),
    };
    db.create_tenant(&tenant).await.unwrap();
    let project = Project {
        id: new_id("prj"),
        tenant_id: tenant.id.clone(),
        slug: "letters".into(),
        name: "Letters".into(),
        policy: Policy::default(),
        created_at: now(),
        updated_at: now(),
    };
    db.create_project(&project).await.unwrap();
    let key = ApiKey {
        id: new_id("key"),
        tenant_id: tenant.id.clone(),
        name: "s3".into(),
        prefix: "ik_abc".into(),
        scopes: Scopes::new(vec![Scope::FilesWrite]),
        projects: vec![project.id.clone()],
        created_at: now(),
        revoked_at: None,
    };
    db.create_api_key(&key, "hash-of-token").await.unwrap();

    // An S3 credential is found by its access key id, with its key; the
    // secret comes back as stored (SigV4 needs it).
    let credential = S3Credential {
        access_key_id: "IKAKABCDEFGHIJKLMNOP".into(),
        tenant_id: tenant.id.clone(),
        key_id: key.id.clone(),
        secret: "secret-of-forty-characters-0123456789abc".into(),
        created_at: now(),
    };
    db.create_s3_credential(&credential).await.unwrap();
    let (found, found_key) = db.s3_credential("IKAKABCDEFGHIJKLMNOP").await.unwrap();
    assert_eq!(found, credential);
    assert_eq!(found_key, key);
    assert!(
        db.s3_credential("IKAKNOPE")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(db.create_s3_credential(&credential).await.is_err());
    // Revoking the key shows through the credential.
    db.revoke_api_key(&tenant.id, &key.id).await.unwrap();
    let (_, revoked) = db.s3_credential("IKAKABCDEFGHIJKLMNOP").await.unwrap();
    assert!(revoked.revoked_at.is_some());

    // An intent round-trips, is completed once, and is forgotten after its
    // download window.
    let at = now();
    let file_id = new_id("file");
    let intent = UploadIntent {
        id: new_id("int"),
        tenant_id: tenant.id.clone(),
        project_id: project.id.clone(),
        credential_id: key.id.clone(),
        file_id: file_id.clone(),
        key: format!("uploads/{file_id}/a b.pdf"),
        filename: "a b.pdf".into(),
        content_type: Some("application/pdf".into()),
        metadata: Metadata::from([("customer".to_owned(), "42".to_owned())]),
        max_size: 1 << 20,
        secret: "intent-secret".into(),
        created_at: at,
        upload_expires_at: at + Duration::seconds(60),
        download_expires_at: at + Duration::hours(24),
        uploaded_file_id: None,
        uploaded_at: None,
    };
    db.create_intent(&intent).await.unwrap();
    assert_eq!(db.intent(&intent.id).await.unwrap(), intent);
    assert!(db.intent("int_nope").await.unwrap_err().is_not_found());
    assert!(db.complete_intent(&intent.id, &file_id, at).await.unwrap());
    assert!(
        !db.complete_intent(&intent.id, "file_other", at)
            .await
            .unwrap()
    );
    let done = db.intent(&intent.id).await.unwrap();
    assert_eq!(done.uploaded_file_id.as_deref(), Some(file_id.as_str()));
    assert_eq!(done.uploaded_at, Some(at));
    assert_eq!(db.delete_intents_before(at).await.unwrap(), 0);
    assert_eq!(
        db.delete_intents_before(at + Duration::hours(25))
            .await
            .unwrap(),
        1
    );
    assert!(db.intent(&intent.id).await.unwrap_err().is_not_found());

    // A project with intents can still be deleted (they go with it).
    let other = UploadIntent {
        id: new_id("int"),
        file_id: new_id("file"),
        ..intent
    };
    db.create_intent(&other).await.unwrap();
    db.delete_project(&tenant.id, &project.id).await.unwrap();
    assert!(db.intent(&other.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn sqlite_signed_story() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteCatalog::open(&dir.path().join("catalog.db"))
        .await
        .unwrap();
    signed_story(Arc::new(db)).await;
}

#[tokio::test]
async fn postgres_signed_story() {
    let Some(db) = intake_catalog::testing::postgres("postgres_signed_story").await else {
        return;
    };
    signed_story(db.catalog().await).await;
}
