//! Retention: a file past its expiry becomes `expired`, its bytes go, `file.expired` is sent.

use intake_core::*;

use crate::harness::*;

async fn an_expired_file_loses_its_bytes_and_is_announced(engine: Engine) {
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
    let hook = h.add_webhook(&receiver.url, vec![Event::FileExpired]).await;
    let past = now() - chrono::Duration::seconds(5);
    let expiring = h
        .upload_with(b"old\n", Format::Text, None, Some(past))
        .await;
    let future = now() + chrono::Duration::hours(1);
    let kept = h
        .upload_with(b"new\n", Format::Text, None, Some(future))
        .await;
    let runner = h.start("w");
    let expired = h
        .wait_for(&expiring.id, |f| f.status == FileStatus::Expired)
        .await;
    let deliveries = h.wait_deliveries(&hook, 1).await;
    let kept = h.wait_final(&kept.id).await;
    runner.stop().await;

    assert_eq!(expired.blob_key, "");
    assert!(
        h.blobs
            .get(&expiring.blob_key, None)
            .await
            .is_err_and(|e| e.is_not_found())
    );
    assert_eq!(kept.status, FileStatus::Ready);
    assert!(h.blobs.get(&kept.blob_key, None).await.is_ok());
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].state, DeliveryState::Delivered);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["event"], "file.expired");
    assert_eq!(body["data"]["file"]["id"], expiring.id.as_str());
    assert_eq!(body["data"]["file"]["status"], "expired");
}

on_every_engine!(an_expired_file_loses_its_bytes_and_is_announced,);
