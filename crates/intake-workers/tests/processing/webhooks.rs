//! Webhook deliveries: retried with backoff until the receiver accepts, signed, filtered by
//! event, and given up on after the last attempt.

use std::time::Duration;

use intake_core::*;
use intake_workers::{WorkerConfig, verify};

use crate::harness::*;

fn scan_off() -> Policy {
    Policy {
        scan: ScanMode::Off,
        ..Policy::default()
    }
}

async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(engine: Engine) {
    let h = Harness::on(engine, scan_off(), fast_config()).await;
    let receiver = Receiver::start(2).await;
    let hook = h.add_webhook(&receiver.url, vec![]).await;
    let not_interested = h
        .add_webhook(&receiver.url, vec![Event::FileRejected])
        .await;
    let file = h.upload(b"hello\n", Format::Text, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    let deliveries = h.wait_deliveries(&hook, 1).await;
    runner.stop().await;
    assert_eq!(done.status, FileStatus::Ready);

    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(
        (delivery.state, delivery.attempts, delivery.last_status),
        (DeliveryState::Delivered, 3, Some(200))
    );
    assert_eq!(delivery.last_response.as_deref(), Some("thanks"));
    assert!(
        h.catalog
            .deliveries(&not_interested.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let received = receiver.received();
    assert_eq!(received.len(), 3, "two failures, then the success");
    let unix_now = now().timestamp();
    for request in &received {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("intake-event"), "file.ready");
        assert_eq!(header("intake-delivery"), delivery.id);
        let signature = header("intake-signature");
        assert_eq!(
            verify(
                "whsec_test",
                &signature,
                &request.body,
                unix_now,
                Duration::from_secs(300)
            ),
            Ok(())
        );
        assert!(
            verify(
                "wrong",
                &signature,
                &request.body,
                unix_now,
                Duration::from_secs(300)
            )
            .is_err()
        );
    }
    let body: serde_json::Value = serde_json::from_slice(&received[2].body).unwrap();
    assert_eq!(body["id"], delivery.id);
    assert_eq!(body["event"], "file.ready");
    let shown = &body["data"]["file"];
    assert_eq!(
        (shown["id"].as_str(), shown["status"].as_str()),
        (Some(file.id.as_str()), Some("ready"))
    );
    assert_eq!(shown["sha256"], file.sha256);
    assert_eq!(shown["properties"]["line_count"], 1);
    assert_eq!(body["data"].get("detail"), None);
}

async fn a_rejected_file_says_why_and_a_dead_receiver_is_given_up(engine: Engine) {
    let config = WorkerConfig {
        webhook_attempts: 2,
        ..fast_config()
    };
    let h = Harness::on(engine, scan_off(), config).await;
    let receiver = Receiver::start(usize::MAX).await;
    let hook = h
        .add_webhook(&receiver.url, vec![Event::FileRejected])
        .await;
    let file = h.upload(b"%PDF-1.4 nonsense", Format::Pdf, None).await;
    let runner = h.start("w");
    let done = h.wait_final(&file.id).await;
    let deliveries = h.wait_deliveries(&hook, 1).await;
    runner.stop().await;
    assert_eq!(done.reason, Some(Reason::Unrenderable));
    let delivery = &deliveries[0];
    assert_eq!(
        (delivery.state, delivery.attempts, delivery.last_status),
        (DeliveryState::Failed, 2, Some(500))
    );
    assert_eq!(delivery.last_response.as_deref(), Some("not yet"));
    assert_eq!(delivery.payload["event"], "file.rejected");
    assert_eq!(delivery.payload["data"]["file"]["reason"], "unrenderable");
    assert!(
        delivery.payload["data"]["detail"]
            .as_str()
            .unwrap()
            .contains("unrenderable")
    );
    assert_eq!(receiver.received().len(), 2);
}

on_every_engine!(
    a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt,
    a_rejected_file_says_why_and_a_dead_receiver_is_given_up,
);
