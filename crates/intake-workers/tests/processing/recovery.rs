//! Workers that die: their jobs are taken over when the lease runs out, and the file reaches
//! its final state exactly once.

use std::time::Duration;

use intake_core::*;
use intake_workers::WorkerConfig;

use crate::documents::*;
use crate::harness::*;

async fn a_job_whose_worker_died_is_taken_over_and_finishes_once(engine: Engine) {
    let h = Harness::on(engine, Policy::default(), fast_config()).await;
    let receiver = Receiver::start(0).await;
    let hook = h.add_webhook(&receiver.url, vec![]).await;
    let file = h.upload(&pdf(&[LETTER], 0), Format::Pdf, None).await;

    // A worker claims the job, starts scanning, and dies: no renewal, no finish.
    let dead = h
        .catalog
        .claim_jobs("dead-node", 10, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    h.catalog.start_processing(&file.id).await.unwrap();
    let running = Task {
        name: TaskName::Scan,
        state: TaskState::Running,
        started_at: Some(now()),
        finished_at: None,
        result: None,
        error: None,
    };
    h.catalog.save_task(&file.id, &running).await.unwrap();

    // Two live runners compete for the job once the lease has run out.
    let a = h.start("a");
    let b = h.start("b");
    let done = h.wait_final(&file.id).await;
    let deliveries = h.wait_deliveries(&hook, 1).await;
    // Give any duplicate a chance to show up before looking.
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.stop().await;
    b.stop().await;

    assert_eq!(done.status, FileStatus::Ready);
    assert_eq!(
        h.catalog.deliveries(&hook.id, 10).await.unwrap().len(),
        1,
        "{deliveries:?}"
    );
    assert_eq!(receiver.received().len(), 1, "announced exactly once");
    assert!(
        !h.catalog.finish_job(&dead[0]).await.unwrap(),
        "the dead worker's lease is void"
    );
    assert!(
        h.catalog
            .claim_jobs("late", 10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty(),
        "no job left"
    );
}

async fn a_worker_dying_on_the_last_attempt_fails_the_file(engine: Engine) {
    let config = WorkerConfig {
        process_attempts: 1,
        ..fast_config()
    };
    let h = Harness::on(
        engine,
        Policy {
            scan: ScanMode::Off,
            ..Policy::default()
        },
        config,
    )
    .await;
    let file = h.upload(b"text\n", Format::Text, None).await;
    let dead = h
        .catalog
        .claim_jobs("dead-node", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!((dead[0].attempts, dead[0].max_attempts), (1, 1));
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!(done.status, FileStatus::Failed);
    let failing = h.task(&file.id, TaskName::Scan).await;
    assert_eq!(failing.state, TaskState::Failed);
    assert_eq!(
        failing.error.as_deref(),
        Some("the worker stopped during the last attempt")
    );
}

async fn a_finished_file_is_not_processed_again(engine: Engine) {
    let h = Harness::on(
        engine,
        Policy {
            scan: ScanMode::Off,
            ..Policy::default()
        },
        fast_config(),
    )
    .await;
    let receiver = Receiver::start(0).await;
    let hook = h.add_webhook(&receiver.url, vec![Event::FileReady]).await;
    let file = h.upload(b"text\n", Format::Text, None).await;
    let runner = h.start("w");
    let first = h.wait_final(&file.id).await;
    h.wait_deliveries(&hook, 1).await;
    // The same job again, as if a worker had died after finishing but before removing it.
    h.catalog
        .enqueue(&h.config.process_job().for_subject(&file.id))
        .await
        .unwrap();
    runner.stop().await;
    let runner = h.start("w2");
    // The runner claims at once when it starts; stopping it waits for the job it runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    runner.stop().await;
    assert!(
        h.catalog
            .claim_jobs("probe", 10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty(),
        "the job ran"
    );
    let again = h.catalog.file_by_id(&file.id).await.unwrap();
    assert_eq!(
        (again.status, again.updated_at),
        (first.status, first.updated_at)
    );
    assert_eq!(h.catalog.deliveries(&hook.id, 10).await.unwrap().len(), 1);
}

async fn two_nodes_share_the_queue_and_announce_each_file_once(engine: Engine) {
    let config = WorkerConfig {
        workers: 2,
        ..fast_config()
    };
    let h = Harness::on(
        engine,
        Policy {
            scan: ScanMode::Off,
            ..Policy::default()
        },
        config,
    )
    .await;
    let receiver = Receiver::start(0).await;
    let hook = h.add_webhook(&receiver.url, vec![Event::FileReady]).await;
    let mut files = Vec::new();
    for i in 0..12 {
        files.push(
            h.upload(format!("file {i}\n").as_bytes(), Format::Text, None)
                .await,
        );
    }
    // Each node with its own connections to the catalog, as two processes would have.
    let a = h.start("a");
    let b = h.start_on("b", h.open_again().await);
    for file in &files {
        assert_eq!(h.wait_final(&file.id).await.status, FileStatus::Ready);
    }
    let deliveries = h.wait_deliveries(&hook, files.len()).await;
    a.stop().await;
    b.stop().await;
    assert_eq!(deliveries.len(), files.len());
    let mut announced: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["data"]["file"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    announced.sort();
    let mut ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
    ids.sort();
    assert_eq!(announced, ids, "every file announced exactly once");
}

on_every_engine!(
    a_job_whose_worker_died_is_taken_over_and_finishes_once,
    a_worker_dying_on_the_last_attempt_fails_the_file,
    a_finished_file_is_not_processed_again,
    two_nodes_share_the_queue_and_announce_each_file_once,
);
