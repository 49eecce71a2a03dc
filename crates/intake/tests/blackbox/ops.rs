//! What operators rely on: health and readiness, Prometheus metrics that
//! move with uploads, and an `X-Request-Id` on every answer (echoed when
//! the client sent one, and matching the problem body's `request_id`).

use reqwest::Method;

use crate::fixtures::pdf;
use crate::harness::Server;
use crate::http::{Auth, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_without_credentials() {
    let server = Server::start().await;
    let health = Reply::from(server.client().get(server.url("/healthz"))).await;
    assert_eq!(health.expect_status(200, "healthz").text().trim(), "ok");
    Reply::from(server.client().get(server.url("/readyz")))
        .await
        .expect_status(200, "readyz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_uploads_and_errors() {
    let server = Server::start().await;
    server
        .upload_one("default", "m.pdf", &pdf(), "application/pdf")
        .await;
    // One refused request, so the error counter has a sample.
    server
        .call(&Auth::bearer("wrong"), Method::GET, "/v1/projects", None)
        .await
        .expect_status(401, "bad key");
    let metrics = server.get("/metrics").await.expect_status(200, "metrics");
    let text = metrics.text();
    for name in [
        "intake_uploads_total",
        "intake_upload_bytes_total",
        "intake_errors_total",
        "intake_http_request_duration_seconds",
        "intake_uploads_in_flight",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }
    assert!(
        text.contains("code=\"unauthorized\""),
        "intake_errors_total by code:\n{text}"
    );
    let uploads: f64 = text
        .lines()
        .filter(|l| l.starts_with("intake_uploads_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        uploads >= 1.0,
        "intake_uploads_total after one upload:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id() {
    let server = Server::start().await;
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/healthz",
        "/v1/projects",
        "/v1/files/file_doesnotexist",
        "/no/such/route",
    ] {
        let reply = server.get(path).await;
        let id = reply
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id on {path}"));
        assert!(!id.is_empty());
        assert!(seen.insert(id.to_owned()), "request id {id} reused");
        if reply.status >= 400 {
            assert_eq!(
                reply.json()["request_id"].as_str(),
                Some(id),
                "problem request_id on {path}"
            );
        }
    }
    let request = server
        .request(&server.admin_auth(), Method::GET, "/v1/projects")
        .header("x-request-id", "trace-abc-123");
    let reply = Reply::from(request).await;
    assert_eq!(
        reply.header("x-request-id"),
        Some("trace-abc-123"),
        "echoed request id"
    );
}
