//! `process_file` outcomes: infected, ready, the rejection reasons, and scan modes.

use intake_core::*;
use intake_workers::WorkerConfig;

use crate::documents::*;
use crate::harness::*;

fn scan_off() -> Policy {
    Policy {
        scan: ScanMode::Off,
        ..Policy::default()
    }
}

#[tokio::test]
async fn eicar_is_infected_and_its_bytes_are_released() {
    if skip_clamd("eicar_is_infected_and_its_bytes_are_released") {
        return;
    }
    let h = Harness::new(Policy::default(), fast_config()).await;
    let file = h.upload(EICAR, Format::Text, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!((done.status, done.reason), (FileStatus::Infected, None));
    assert_eq!(done.blob_key, "", "the row no longer refers to the bytes");
    assert!(
        h.blobs.get(&file.blob_key, None).await.is_err(),
        "the bytes are deleted"
    );
    let scan = h.task(&file.id, TaskName::Scan).await;
    assert_eq!(scan.state, TaskState::Failed);
    let signature = scan.result.unwrap()["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(signature.contains("Eicar-Test-Signature"), "{signature}");
    assert!(scan.started_at.is_some() && scan.finished_at.is_some());
    for name in [TaskName::Inspect, TaskName::Checks] {
        assert_eq!(h.task(&file.id, name).await.state, TaskState::Skipped);
    }
}

#[tokio::test]
async fn quarantine_keeps_an_infected_files_bytes() {
    if skip_clamd("quarantine_keeps_an_infected_files_bytes") {
        return;
    }
    let config = WorkerConfig {
        quarantine_infected: true,
        ..fast_config()
    };
    let h = Harness::new(Policy::default(), config).await;
    let file = h.upload(EICAR, Format::Text, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!(done.status, FileStatus::Infected);
    assert_eq!(done.blob_key, file.blob_key);
    assert!(h.blobs.get(&file.blob_key, None).await.is_ok());
}

#[tokio::test]
async fn a_clean_pdf_is_scanned_and_ready_with_its_pages() {
    let scanning = !skip_clamd("a_clean_pdf_is_scanned_and_ready_with_its_pages (scan part)");
    let h = Harness::new(Policy::default(), fast_config()).await;
    let small = h
        .upload(
            &pdf(&[LETTER, LETTER], 0),
            Format::Pdf,
            Some("Letter 8.5 x 11"),
        )
        .await;
    // Over the in-memory limit: inspected from a temporary file.
    let big = h
        .upload(&pdf(&[LETTER; 3], 9 << 20), Format::Pdf, None)
        .await;
    let runner = h.start("w");
    let small_done = h.wait_final(&small.id).await;
    let big_done = h.wait_final(&big.id).await;
    runner.stop().await;
    assert_eq!(
        (small_done.status, small_done.reason),
        (FileStatus::Ready, None)
    );
    let props = small_done.properties.unwrap();
    assert_eq!(props["pages"], 2);
    assert_eq!(props["page_sizes"][1]["width_in"], 8.5);
    let scan = h.task(&small.id, TaskName::Scan).await;
    let inspect = h.task(&small.id, TaskName::Inspect).await;
    let checks = h.task(&small.id, TaskName::Checks).await;
    if scanning {
        assert_eq!(scan.state, TaskState::Done);
        assert_eq!(scan.result.unwrap()["verdict"], "clean");
    }
    assert_eq!(inspect.state, TaskState::Done);
    assert_eq!(inspect.result.unwrap()["pages"], 2);
    assert_eq!(checks.state, TaskState::Done);
    assert_eq!(
        checks.result.unwrap()["ran"],
        serde_json::json!(["document_class"])
    );
    assert_eq!(
        big_done.status,
        FileStatus::Ready,
        "{:?}",
        h.task(&big.id, TaskName::Inspect).await
    );
    assert_eq!(big_done.properties.unwrap()["pages"], 3);
    assert_eq!(
        h.task(&big.id, TaskName::Checks).await.state,
        TaskState::Skipped
    );
}

#[tokio::test]
async fn checks_reject_with_their_reason_codes() {
    let classes = vec![DocumentClass {
        name: "Two pages max".into(),
        width_pt: 612.0,
        height_pt: 792.0,
        tolerance_pt: 3.0,
        orientation: Orientation::Any,
        min_pages: None,
        max_pages: Some(2),
    }];
    let policy = Policy {
        preflight: Preflight {
            forbid_encrypted: true,
            ..Preflight::default()
        },
        document_classes: classes,
        ..scan_off()
    };
    let h = Harness::new(policy, fast_config()).await;
    let a4 = h
        .upload(&pdf(&[A4], 0), Format::Pdf, Some("Letter 8.5 x 11"))
        .await;
    let long = h
        .upload(&pdf(&[LETTER; 3], 0), Format::Pdf, Some("Two pages max"))
        .await;
    let encrypted = h.upload(&encrypted_pdf(), Format::Pdf, None).await;
    let broken = h.upload(&broken_pdf(), Format::Pdf, None).await;
    let bomb = h.upload(&zip_bomb_docx(), Format::Docx, None).await;
    let runner = h.start("w");
    let mut outcomes = Vec::new();
    for file in [&a4, &long, &encrypted, &broken, &bomb] {
        let done = h.wait_final(&file.id).await;
        outcomes.push((done.status, done.reason));
    }
    runner.stop().await;
    let rejected = |reason| (FileStatus::Rejected, Some(reason));
    assert_eq!(
        outcomes,
        vec![
            rejected(Reason::Dimensions),
            rejected(Reason::PageCount),
            rejected(Reason::Preflight),
            rejected(Reason::Unrenderable),
            rejected(Reason::Unrenderable),
        ]
    );
    let checks = h.task(&a4.id, TaskName::Checks).await;
    assert_eq!(checks.state, TaskState::Failed);
    assert!(checks.error.unwrap().contains("595.28"));
    assert_eq!(
        checks.result.unwrap()["ran"],
        serde_json::json!(["preflight", "document_class"])
    );
    let preflight = h.task(&encrypted.id, TaskName::Checks).await;
    assert_eq!(
        preflight.error.as_deref(),
        Some("the document is encrypted")
    );
    for file in [&broken, &bomb] {
        let inspect = h.task(&file.id, TaskName::Inspect).await;
        assert_eq!(inspect.state, TaskState::Failed);
        assert!(inspect.error.is_some());
        assert_eq!(
            h.task(&file.id, TaskName::Checks).await.state,
            TaskState::Skipped
        );
    }
    let scan = h.task(&a4.id, TaskName::Scan).await;
    assert_eq!(
        (scan.state, scan.error.as_deref()),
        (TaskState::Skipped, Some("scanning is off for this project"))
    );
}

#[tokio::test]
async fn required_scan_with_clamd_down_retries_then_fails() {
    // Port 1 on localhost refuses connections: clamd "down".
    let config = WorkerConfig {
        clamd: Some("tcp://127.0.0.1:1".parse().unwrap()),
        process_attempts: 3,
        ..fast_config()
    };
    let h = Harness::new(
        Policy {
            scan: ScanMode::Required,
            ..Policy::default()
        },
        config,
    )
    .await;
    let file = h.upload(&pdf(&[LETTER], 0), Format::Pdf, None).await;
    let runner = h.start("w");
    // While it retries, the file waits and the scan task says why.
    let waiting = h
        .wait_for(&file.id, |f| f.status == FileStatus::Processing)
        .await;
    assert_eq!(waiting.status, FileStatus::Processing);
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!((done.status, done.reason), (FileStatus::Failed, None));
    let scan = h.task(&file.id, TaskName::Scan).await;
    assert_eq!(scan.state, TaskState::Failed);
    assert!(
        scan.error.as_deref().unwrap().contains("unreachable"),
        "{scan:?}"
    );
    assert_eq!(
        h.task(&file.id, TaskName::Inspect).await.state,
        TaskState::Skipped,
        "never inspected unscanned"
    );
}

#[tokio::test]
async fn required_scan_without_a_scanner_fails() {
    let config = WorkerConfig {
        clamd: None,
        process_attempts: 2,
        ..fast_config()
    };
    let h = Harness::new(
        Policy {
            scan: ScanMode::Required,
            ..Policy::default()
        },
        config,
    )
    .await;
    let file = h.upload(b"hello\n", Format::Text, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!(done.status, FileStatus::Failed);
    let scan = h.task(&file.id, TaskName::Scan).await;
    assert!(scan.error.unwrap().contains("no virus scanner"));
}

#[tokio::test]
async fn optional_scan_with_clamd_down_is_skipped_and_the_file_ready() {
    let config = WorkerConfig {
        clamd: Some("tcp://127.0.0.1:1".parse().unwrap()),
        ..fast_config()
    };
    let h = Harness::new(
        Policy {
            scan: ScanMode::Optional,
            ..Policy::default()
        },
        config,
    )
    .await;
    let file = h.upload(b"a,b\n1,2\n", Format::Csv, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!(done.status, FileStatus::Ready);
    assert_eq!(done.properties.unwrap()["line_count"], 2);
    let scan = h.task(&file.id, TaskName::Scan).await;
    assert_eq!(scan.state, TaskState::Skipped);
    assert!(scan.error.unwrap().contains("unreachable"));
}

#[tokio::test]
async fn an_inspection_over_its_time_limit_is_unrenderable() {
    // No 9 MiB PDF parses in a microsecond.
    let config = WorkerConfig {
        inspect_timeout: std::time::Duration::from_micros(1),
        ..fast_config()
    };
    let h = Harness::new(scan_off(), config).await;
    let file = h.upload(&pdf(&[LETTER], 9 << 20), Format::Pdf, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    runner.stop().await;
    assert_eq!(
        (done.status, done.reason),
        (FileStatus::Rejected, Some(Reason::Unrenderable))
    );
    let inspect = h.task(&file.id, TaskName::Inspect).await;
    assert!(inspect.error.unwrap().contains("took longer than"));
}
