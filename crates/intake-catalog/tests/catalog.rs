#![expect(clippy::unwrap_used, reason = "a test fails loudly on any error")]

//! The stories the service relies on, each run against every catalog engine
//! with the same body: `sqlite::<story>` on a file in a temporary directory,
//! `postgres::<story>` on a database of its own, created on the server of
//! `INTAKE_TEST_DATABASE_URL` and dropped afterwards. Without that variable
//! the PostgreSQL tests fail and say how to start a server, unless
//! `INTAKE_TEST_SKIP_POSTGRES=1`.

use intake_catalog::{Catalog, CatalogError, FileOutcome, FileQuery, JobTemplate};
use intake_core::*;
use std::sync::Arc;

fn tenant(slug: &str) -> Tenant {
    Tenant {
        id: new_id("ten"),
        slug: slug.into(),
        name: slug.into(),
        created_at: now(),
    }
}

fn project(tenant: &Tenant, slug: &str) -> Project {
    Project {
        id: new_id("prj"),
        tenant_id: tenant.id.clone(),
        slug: slug.into(),
        name: slug.into(),
        policy: Policy::default(),
        created_at: now(),
        updated_at: now(),
    }
}

fn upload(p: &Project) -> Upload {
    Upload {
        id: new_id("upl"),
        tenant_id: p.tenant_id.clone(),
        project_id: p.id.clone(),
        name: None,
        metadata: Metadata::new(),
        created_at: now(),
    }
}

fn file(p: &Project, up: &Upload, name: &str, sha: &str, blob: &str) -> FileRecord {
    FileRecord {
        id: new_id("file"),
        tenant_id: p.tenant_id.clone(),
        project_id: p.id.clone(),
        folder_id: 0,
        upload_id: up.id.clone(),
        name: name.into(),
        original_filename: Some(format!("{name}.pdf")),
        size: 3,
        sha256: sha.into(),
        detected_format: Format::Pdf,
        declared_content_type: Some("application/pdf".into()),
        metadata: Metadata::from([("customer".to_string(), "42".to_string())]),
        status: FileStatus::Ready,
        reason: None,
        blob_key: blob.into(),
        document_class: None,
        external_id: None,
        properties: None,
        created_at: now(),
        updated_at: now(),
        expires_at: None,
    }
}

async fn story(db: Arc<dyn Catalog>) {
    db.ping().await.unwrap();
    let acme = tenant("acme");
    let other = tenant("other");
    db.create_tenant(&acme).await.unwrap();
    db.create_tenant(&other).await.unwrap();
    assert!(matches!(
        db.create_tenant(&tenant("acme")).await,
        Err(CatalogError::Conflict {
            code: "tenant_exists",
            ..
        })
    ));
    assert_eq!(db.tenant_by_slug("acme").await.unwrap(), acme);

    // Projects by id or slug, only within their tenant.
    let p = project(&acme, "letters");
    db.create_project(&p).await.unwrap();
    assert_eq!(db.project(&acme.id, "letters").await.unwrap(), p);
    assert_eq!(db.project(&acme.id, &p.id).await.unwrap(), p);
    assert!(
        db.project(&other.id, "letters")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let mut changed = p.clone();
    changed.policy.duplicates = DuplicateMode::Reject;
    db.update_project(&changed).await.unwrap();
    assert_eq!(
        db.project(&acme.id, "letters")
            .await
            .unwrap()
            .policy
            .duplicates,
        DuplicateMode::Reject
    );

    // Folders nest; ids count per project.
    let f1 = db.create_folder(&p.id, 0, "invoices").await.unwrap();
    let f2 = db.create_folder(&p.id, f1.id, "2026").await.unwrap();
    assert_eq!((f1.id, f2.id, f2.parent_id), (1, 2, 1));
    assert!(db.create_folder(&p.id, 99, "x").await.is_err());
    assert!(db.create_folder(&p.id, 0, "invoices").await.is_err());
    assert_eq!(
        db.list_folders(&p.id, Some(1)).await.unwrap(),
        vec![f2.clone()]
    );
    assert!(matches!(
        db.delete_folder(&p.id, 1).await,
        Err(CatalogError::Conflict {
            code: "folder_not_empty",
            ..
        })
    ));

    // Credentials: by token hash; revocation sticks.
    let key = ApiKey {
        id: new_id("key"),
        tenant_id: acme.id.clone(),
        name: "ci".into(),
        prefix: "ik_abc".into(),
        scopes: "files:read files:write".parse().unwrap(),
        projects: vec![p.id.clone()],
        created_at: now(),
        revoked_at: None,
    };
    db.create_api_key(&key, "hash1").await.unwrap();
    assert_eq!(db.api_key_by_hash("hash1").await.unwrap(), key);
    assert!(
        db.revoke_api_key(&other.id, &key.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        db.revoke_api_key(&acme.id, &key.id)
            .await
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        db.api_key_by_hash("hash1")
            .await
            .unwrap()
            .revoked_at
            .is_some()
    );
    let user = User {
        id: new_id("usr"),
        tenant_id: acme.id.clone(),
        username: "awesomeuser".into(),
        scopes: Scopes::all(),
        projects: vec![],
        created_at: now(),
    };
    db.create_user(&user, "$argon2id$x").await.unwrap();
    assert_eq!(
        db.user_by_name(&acme.id, "awesomeuser").await.unwrap(),
        (user.clone(), "$argon2id$x".into())
    );
    assert!(
        db.user_by_name(&other.id, "awesomeuser")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Uploads: identical bytes share one blob per tenant.
    let up = upload(&p);
    let a = file(&p, &up, "a", "sha-1", "blob-a");
    let b = file(&p, &up, "b", "sha-1", "blob-b");
    let done = db
        .commit_upload(&up, vec![a.clone(), b.clone()], DuplicateMode::Allow, None)
        .await
        .unwrap();
    assert_eq!(done.unused_blobs, vec!["blob-b".to_string()]);
    assert_eq!(done.files[1].blob_key, "blob-a");
    assert_eq!(db.file(&acme.id, &a.id).await.unwrap(), a);
    assert!(db.file(&other.id, &a.id).await.unwrap_err().is_not_found());
    let (got_upload, files) = db.upload(&acme.id, &up.id).await.unwrap();
    assert_eq!((got_upload, files.len()), (up.clone(), 2));

    // Duplicate rules are applied inside the commit.
    let up2 = upload(&p);
    let c = file(&p, &up2, "c", "sha-1", "blob-c");
    match db
        .commit_upload(&up2, vec![c.clone()], DuplicateMode::Reject, None)
        .await
    {
        // a and b hold the same bytes; either may be named.
        Err(CatalogError::Duplicate { existing }) => assert!(existing == a.id || existing == b.id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert!(
        db.upload(&acme.id, &up2.id)
            .await
            .unwrap_err()
            .is_not_found(),
        "a refused upload leaves nothing"
    );
    let reused = db
        .commit_upload(&up2, vec![c.clone()], DuplicateMode::Reuse, None)
        .await
        .unwrap();
    assert!(reused.files[0].id == a.id || reused.files[0].id == b.id);
    assert_eq!(reused.unused_blobs, vec!["blob-c".to_string()]);
    assert!(db.file(&acme.id, &c.id).await.unwrap_err().is_not_found());

    // Listing: newest first, filters, stable cursors.
    let up3 = upload(&p);
    let mut many = Vec::new();
    for i in 0..5 {
        let mut f = file(
            &p,
            &up3,
            &format!("report-{i}"),
            &format!("sha-r{i}"),
            &format!("blob-r{i}"),
        );
        f.created_at = now() + chrono::Duration::milliseconds(i);
        many.push(f);
    }
    db.commit_upload(&up3, many.clone(), DuplicateMode::Allow, None)
        .await
        .unwrap();
    let mut q = FileQuery {
        project_id: Some(p.id.clone()),
        name_prefix: Some("report-".into()),
        limit: 2,
        ..FileQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = db.list_files(&acme.id, &q).await.unwrap();
        seen.extend(page.items.iter().map(|f| f.name.clone()));
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["report-4", "report-3", "report-2", "report-1", "report-0"]
    );
    let none = FileQuery {
        status: Some(FileStatus::Rejected),
        limit: 10,
        ..FileQuery::default()
    };
    assert!(
        db.list_files(&acme.id, &none)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        db.list_files(
            &other.id,
            &FileQuery {
                limit: 10,
                ..FileQuery::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty()
    );

    // Deleting frees a shared blob only with its last file.
    assert_eq!(db.delete_file(&acme.id, &a.id).await.unwrap(), None);
    assert!(db.blob_in_use("blob-a").await.unwrap());
    assert_eq!(
        db.delete_file(&acme.id, &b.id).await.unwrap(),
        Some("blob-a".to_string())
    );
    assert!(!db.blob_in_use("blob-a").await.unwrap());
    assert!(
        db.delete_file(&acme.id, &b.id)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // A project with files cannot be deleted; an empty one can.
    assert!(matches!(
        db.delete_project(&acme.id, &p.id).await,
        Err(CatalogError::Conflict {
            code: "project_not_empty",
            ..
        })
    ));
    let empty = project(&acme, "empty");
    db.create_project(&empty).await.unwrap();
    db.delete_project(&acme.id, &empty.id).await.unwrap();
    assert!(
        db.project(&acme.id, "empty")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

/// The job queue and processing outcomes.
async fn processing_story(db: Arc<dyn Catalog>) {
    let t = tenant("jobs");
    db.create_tenant(&t).await.unwrap();
    let p = project(&t, "p");
    db.create_project(&p).await.unwrap();
    let up = upload(&p);
    let mut f = file(&p, &up, "doc", "sha-j", "blob-j");
    f.status = FileStatus::Received;
    let process = JobTemplate {
        kind: JobKind::ProcessFile,
        max_attempts: 3,
    };
    db.commit_upload(&up, vec![f.clone()], DuplicateMode::Allow, Some(process))
        .await
        .unwrap();

    // One claim wins; a second claimer finds nothing while the lease holds.
    let lease = std::time::Duration::from_secs(60);
    let jobs = db.claim_jobs("w1", 10, lease).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].kind, jobs[0].subject.as_str(), jobs[0].attempts),
        (JobKind::ProcessFile, f.id.as_str(), 1)
    );
    assert!(db.claim_jobs("w2", 10, lease).await.unwrap().is_empty());

    // A retry comes back when due; a stale worker cannot touch a job it lost.
    let job = &jobs[0];
    assert!(db.retry_job(job, now(), "clamd unreachable").await.unwrap());
    let again = db
        .claim_jobs("w2", 10, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 2);
    assert!(!db.finish_job(job).await.unwrap(), "w1 lost the job to w2");
    // w2's lease was zero: it has run out, so w3 takes the job over.
    let taken = db.claim_jobs("w3", 10, lease).await.unwrap();
    assert_eq!(
        (taken[0].attempts, taken[0].lease_owner.as_str()),
        (3, "w3")
    );
    assert!(!db.bury_job(&again[0], "late").await.unwrap());

    // Tasks are upserted; the final status is recorded once, with deliveries.
    db.start_processing(&f.id).await.unwrap();
    assert_eq!(
        db.file_by_id(&f.id).await.unwrap().status,
        FileStatus::Processing
    );
    let task = Task {
        name: TaskName::Scan,
        state: TaskState::Done,
        started_at: Some(now()),
        finished_at: Some(now()),
        result: None,
        error: None,
    };
    db.save_task(&f.id, &task).await.unwrap();
    db.save_task(&f.id, &task).await.unwrap();
    assert_eq!(db.tasks(&f.id).await.unwrap(), vec![task]);
    let hook = Webhook {
        id: new_id("whk"),
        tenant_id: t.id.clone(),
        project_id: p.id.clone(),
        url: "http://127.0.0.1:9/hook".into(),
        events: vec![],
        secret: "s".into(),
        created_at: now(),
    };
    db.create_webhook(&hook).await.unwrap();
    assert_eq!(db.webhooks(&p.id).await.unwrap(), vec![hook.clone()]);
    let delivery = Delivery {
        id: new_id("dlv"),
        webhook_id: hook.id.clone(),
        event: Event::FileReady,
        payload: serde_json::json!({"file": f.id}),
        state: DeliveryState::Pending,
        attempts: 0,
        last_status: None,
        last_response: None,
        created_at: now(),
        updated_at: now(),
    };
    let deliver = JobTemplate {
        kind: JobKind::DeliverWebhook,
        max_attempts: 5,
    };
    let ready = FileOutcome {
        status: FileStatus::Ready,
        reason: None,
        properties: Some(serde_json::json!({"pages": 3})),
        release_blob: false,
    };
    let (done, freed) = db
        .finish_file(&f.id, &ready, std::slice::from_ref(&delivery), deliver)
        .await
        .unwrap();
    assert_eq!(
        (done.status, done.properties.clone(), freed),
        (
            FileStatus::Ready,
            Some(serde_json::json!({"pages": 3})),
            None
        )
    );
    assert!(db.finish_job(&taken[0]).await.unwrap());
    // Running the step again changes nothing and queues nothing.
    let infected = FileOutcome {
        status: FileStatus::Infected,
        reason: None,
        properties: None,
        release_blob: true,
    };
    let (same, _) = db
        .finish_file(&f.id, &infected, std::slice::from_ref(&delivery), deliver)
        .await
        .unwrap();
    assert_eq!(same.status, FileStatus::Ready);
    let queued = db.claim_jobs("w4", 10, lease).await.unwrap();
    assert_eq!(queued.len(), 1, "one delivery job, not two");
    assert_eq!(
        (queued[0].kind, queued[0].subject.as_str()),
        (JobKind::DeliverWebhook, delivery.id.as_str())
    );
    assert_eq!(
        db.deliveries(&hook.id, 10).await.unwrap(),
        vec![delivery.clone()]
    );

    // Expiry: once, releasing the bytes.
    assert_eq!(db.due_for_expiry(now(), 10).await.unwrap().len(), 0);
    let (expired, freed) = db.expire_file(&f.id, &[], deliver).await.unwrap();
    assert_eq!((expired, freed), (true, Some("blob-j".to_string())));
    assert_eq!(
        db.expire_file(&f.id, &[], deliver).await.unwrap(),
        (false, None)
    );
    let gone = db.file_by_id(&f.id).await.unwrap();
    assert_eq!(
        (gone.status, gone.blob_key.as_str()),
        (FileStatus::Expired, "")
    );
}

async fn lists_story(db: Arc<dyn Catalog>) {
    let acme = tenant("lists-acme");
    let other = tenant("lists-other");
    db.create_tenant(&acme).await.unwrap();
    db.create_tenant(&other).await.unwrap();

    // Ids count per tenant from 1; names are unique per tenant.
    let news = db
        .create_list(&acme.id, "News", ListStatus::Active)
        .await
        .unwrap();
    let promo = db
        .create_list(&acme.id, "Promotions", ListStatus::Active)
        .await
        .unwrap();
    let theirs = db
        .create_list(&other.id, "News", ListStatus::Hidden)
        .await
        .unwrap();
    assert_eq!((news.id, promo.id, theirs.id), (1, 2, 1));
    assert!(matches!(
        db.create_list(&acme.id, "News", ListStatus::Active).await,
        Err(CatalogError::Conflict {
            code: "list_exists",
            ..
        })
    ));
    assert!(db.list(&acme.id, 3).await.unwrap_err().is_not_found());

    // Members: adding twice adds once; pages in address order.
    let emails = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        db.add_members(&acme.id, 1, &emails(&["b@x.com", "a@x.com", "c@x.com"]))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        db.add_members(&acme.id, 1, &emails(&["a@x.com", "d@x.com"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.add_members(&acme.id, 2, &emails(&["a@x.com", "e@x.com"]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.add_members(&other.id, 1, &emails(&["a@x.com"]))
            .await
            .unwrap(),
        1
    );
    assert!(
        db.add_members(&acme.id, 9, &emails(&["a@x.com"]))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        db.members(&acme.id, 1, None, 2).await.unwrap(),
        emails(&["a@x.com", "b@x.com"])
    );
    assert_eq!(
        db.members(&acme.id, 1, Some("b@x.com"), 10).await.unwrap(),
        emails(&["c@x.com", "d@x.com"])
    );
    assert_eq!(db.list(&acme.id, 1).await.unwrap().member_count, 4);
    let all = db.lists(&acme.id).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|l| (l.id, l.member_count))
            .collect::<Vec<_>>(),
        vec![(1, 4), (2, 2)]
    );

    // Removal counts per address, across lists, within the tenant only.
    let counts = db
        .remove_members(
            &acme.id,
            &[1, 2],
            &emails(&["a@x.com", "e@x.com", "zz@x.com"]),
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        RemovalCounts {
            processed: 3,
            removed: 2,
            not_found: 1
        }
    );
    assert_eq!(
        db.members(&acme.id, 1, None, 10).await.unwrap(),
        emails(&["b@x.com", "c@x.com", "d@x.com"])
    );
    assert!(db.members(&acme.id, 2, None, 10).await.unwrap().is_empty());
    assert_eq!(
        db.members(&other.id, 1, None, 10).await.unwrap(),
        emails(&["a@x.com"])
    );
    // An unknown list removes nothing at all.
    assert!(
        db.remove_members(&acme.id, &[1, 7], &emails(&["b@x.com"]))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(db.list(&acme.id, 1).await.unwrap().member_count, 3);

    // Activities: stored, read within their tenant, final once.
    let mut act = Activity {
        id: new_id("act"),
        tenant_id: acme.id.clone(),
        kind: ActivityKind::RemoveFromLists,
        status: ActivityStatus::Queued,
        lists: vec![1, 2],
        file_id: Some("file_x".into()),
        file_name: Some("contacts.txt".into()),
        contact_count: 0,
        removed_count: 0,
        not_found_count: 0,
        error_count: 0,
        errors: Vec::new(),
        created_at: now(),
        updated_at: now(),
    };
    db.create_activity(&act).await.unwrap();
    assert_eq!(db.activity(&acme.id, &act.id).await.unwrap(), act);
    assert!(
        db.activity(&other.id, &act.id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    act.status = ActivityStatus::Error;
    act.error_count = 1;
    act.errors = vec![ActivityError {
        line: Some(2),
        message: "not an address".into(),
        value: Some("Alice".into()),
    }];
    assert!(db.save_activity(&act).await.unwrap());
    let mut again = act.clone();
    again.status = ActivityStatus::Complete;
    assert!(!db.save_activity(&again).await.unwrap());
    assert_eq!(db.activity(&acme.id, &act.id).await.unwrap(), act);
}

/// Many callers at once, as several nodes on one PostgreSQL catalog: each
/// rule holds as it does for one caller at a time.
async fn concurrency_story(db: Arc<dyn Catalog>) {
    use tokio::task::JoinSet;
    let t = tenant("race");
    db.create_tenant(&t).await.unwrap();
    let p = project(&t, "p");
    db.create_project(&p).await.unwrap();

    // Folder and list ids stay consecutive when created at once.
    let mut set = JoinSet::new();
    for i in 0..8 {
        let (db, p) = (db.clone(), p.id.clone());
        set.spawn(async move { db.create_folder(&p, 0, &format!("f{i}")).await });
    }
    let mut ids: Vec<i64> = set
        .join_all()
        .await
        .into_iter()
        .map(|f| f.unwrap().id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
    let mut set = JoinSet::new();
    for i in 0..8 {
        let (db, t) = (db.clone(), t.id.clone());
        set.spawn(async move {
            db.create_list(&t, &format!("l{i}"), ListStatus::Active)
                .await
        });
    }
    let mut ids: Vec<i64> = set
        .join_all()
        .await
        .into_iter()
        .map(|l| l.unwrap().id)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());

    // The same bytes committed at once under `Reject`: one upload wins, the
    // others name it as the duplicate.
    let mut set = JoinSet::new();
    for i in 0..8 {
        let (db, p) = (db.clone(), p.clone());
        set.spawn(async move {
            let up = upload(&p);
            let f = file(
                &p,
                &up,
                &format!("same-{i}"),
                "sha-same",
                &format!("blob-same-{i}"),
            );
            db.commit_upload(&up, vec![f], DuplicateMode::Reject, None)
                .await
        });
    }
    let results = set.join_all().await;
    let winners: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|c| c.files[0].id.clone()))
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in &results {
        match result {
            Ok(_) => {}
            Err(CatalogError::Duplicate { existing }) => assert_eq!(existing, &winners[0]),
            Err(other) => panic!("expected a duplicate, got {other:?}"),
        }
    }

    // Under `Allow` every file is kept and all share one blob; deleting them
    // all at once frees that blob exactly once.
    let mut set = JoinSet::new();
    for i in 0..8 {
        let (db, p) = (db.clone(), p.clone());
        set.spawn(async move {
            let up = upload(&p);
            let f = file(
                &p,
                &up,
                &format!("shared-{i}"),
                "sha-shared",
                &format!("blob-shared-{i}"),
            );
            db.commit_upload(&up, vec![f], DuplicateMode::Allow, None)
                .await
        });
    }
    let committed: Vec<_> = set
        .join_all()
        .await
        .into_iter()
        .map(|c| c.unwrap())
        .collect();
    let mut kept: Vec<&str> = committed
        .iter()
        .map(|c| c.files[0].blob_key.as_str())
        .collect();
    kept.dedup();
    assert_eq!(kept.len(), 1, "one blob for the same bytes");
    assert_eq!(
        committed
            .iter()
            .map(|c| c.unused_blobs.len())
            .sum::<usize>(),
        7
    );
    let kept = kept[0].to_owned();
    let mut set = JoinSet::new();
    for c in &committed {
        let (db, tenant, id) = (db.clone(), t.id.clone(), c.files[0].id.clone());
        set.spawn(async move { db.delete_file(&tenant, &id).await });
    }
    let freed: Vec<String> = set
        .join_all()
        .await
        .into_iter()
        .filter_map(|r| r.unwrap())
        .collect();
    assert_eq!(freed, vec![kept.clone()], "the last delete frees the blob");
    assert!(!db.blob_in_use(&kept).await.unwrap());

    // Claimers running at once never share a job, and every job is run.
    let process = JobTemplate {
        kind: JobKind::ProcessFile,
        max_attempts: 3,
    };
    let up = upload(&p);
    let queued: Vec<FileRecord> = (0..24)
        .map(|i| {
            let mut f = file(
                &p,
                &up,
                &format!("job-{i}"),
                &format!("sha-job-{i}"),
                &format!("blob-job-{i}"),
            );
            f.status = FileStatus::Received;
            f
        })
        .collect();
    db.commit_upload(&up, queued.clone(), DuplicateMode::Allow, Some(process))
        .await
        .unwrap();
    let lease = std::time::Duration::from_secs(60);
    let mut set = JoinSet::new();
    for w in 0..4 {
        let db = db.clone();
        set.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let jobs = db.claim_jobs(&format!("w{w}"), 3, lease).await.unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                for job in jobs {
                    assert!(db.finish_job(&job).await.unwrap());
                    mine.push(job.subject);
                }
            }
        });
    }
    let mut claimed: Vec<String> = set.join_all().await.into_iter().flatten().collect();
    claimed.sort();
    let mut want: Vec<String> = queued.iter().map(|f| f.id.clone()).collect();
    want.sort();
    assert_eq!(claimed, want, "each job claimed once");

    // A file finished by several workers at once gets one outcome, one
    // delivery and one delivery job.
    let hook = Webhook {
        id: new_id("whk"),
        tenant_id: t.id.clone(),
        project_id: p.id.clone(),
        url: "http://127.0.0.1:9/hook".into(),
        events: vec![],
        secret: "s".into(),
        created_at: now(),
    };
    db.create_webhook(&hook).await.unwrap();
    let deliver = JobTemplate {
        kind: JobKind::DeliverWebhook,
        max_attempts: 5,
    };
    let target = queued[0].id.clone();
    let mut set = JoinSet::new();
    for _ in 0..4 {
        let (db, hook, target) = (db.clone(), hook.id.clone(), target.clone());
        set.spawn(async move {
            let delivery = Delivery {
                id: new_id("dlv"),
                webhook_id: hook,
                event: Event::FileReady,
                payload: serde_json::json!({"file": target}),
                state: DeliveryState::Pending,
                attempts: 0,
                last_status: None,
                last_response: None,
                created_at: now(),
                updated_at: now(),
            };
            let ready = FileOutcome {
                status: FileStatus::Ready,
                reason: None,
                properties: None,
                release_blob: false,
            };
            db.finish_file(&target, &ready, &[delivery], deliver).await
        });
    }
    for result in set.join_all().await {
        assert_eq!(result.unwrap().0.status, FileStatus::Ready);
    }
    assert_eq!(db.deliveries(&hook.id, 10).await.unwrap().len(), 1);
    let jobs = db.claim_jobs("w9", 10, lease).await.unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.kind).collect::<Vec<_>>(),
        vec![JobKind::DeliverWebhook]
    );
}

/// Data outlives the process: a catalog opened again, at the same location,
/// finds it (and its migrations are not run twice).
async fn reopens_with_its_data(location: String) {
    let t = tenant("persist");
    {
        let db = intake_catalog::open(&location).await.unwrap();
        db.create_tenant(&t).await.unwrap();
        db.close().await;
    }
    let db = intake_catalog::open(&location).await.unwrap();
    assert_eq!(db.tenant_by_slug("persist").await.unwrap(), t);
    db.close().await;
}

/// Runs each story on both engines: `sqlite::story`, `postgres::story`, ...
macro_rules! on_every_engine {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $story() {
                    let dir = tempfile::tempdir().unwrap();
                    let db = intake_catalog::SqliteCatalog::open(&dir.path().join("catalog.db"))
                        .await
                        .unwrap();
                    super::$story(std::sync::Arc::new(db)).await;
                }
            )*

            #[tokio::test]
            async fn reopens_with_its_data() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("catalog.db");
                super::reopens_with_its_data(path.display().to_string()).await;
            }
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $story() {
                    let Some(db) = intake_catalog::testing::postgres(concat!("postgres::", stringify!($story))).await else {
                        return;
                    };
                    super::$story(db.catalog().await).await;
                }
            )*

            #[tokio::test]
            async fn reopens_with_its_data() {
                let Some(db) = intake_catalog::testing::postgres("postgres::reopens_with_its_data").await else {
                    return;
                };
                super::reopens_with_its_data(db.url().to_owned()).await;
            }
        }
    };
}

on_every_engine!(story, processing_story, lists_story, concurrency_story);
