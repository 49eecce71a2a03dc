//! The blob-store contract, the same checks for every store: the local disk
//! in a temp dir, and S3 against the test Garage (`scripts/garage/start.sh`,
//! which `scripts/test.sh` runs; `INTAKE_TEST_SKIP_GARAGE=1` skips it).
#![expect(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use intake_blob::{BlobError, BlobStore, FileStore, ResponseHeaders, S3Config, S3Store};

/// Bytes that differ at every offset, so a misplaced range shows.
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

async fn read(store: &dyn BlobStore, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .get(key, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

async fn write(store: &dyn BlobStore, bytes: &[u8], chunk: usize) -> String {
    let mut writer = store.create().await.unwrap();
    for piece in bytes.chunks(chunk) {
        writer.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    writer.finish().await.unwrap()
}

async fn contract(store: Arc<dyn BlobStore>, large: usize) {
    // Small and large blobs round-trip, whole and in ranges.
    for len in [0, 1, 100_000, large] {
        let bytes = data(len);
        let key = write(store.as_ref(), &bytes, 64 * 1024).await;
        assert_eq!(read(store.as_ref(), &key, None).await, bytes, "{len} bytes");
        if len > 10 {
            let range = 3..(len as u64 - 5);
            let expected = &bytes[3..len - 5];
            assert_eq!(read(store.as_ref(), &key, Some(range)).await, expected);
        }
        assert!(
            store
                .keys_older_than(Duration::ZERO)
                .await
                .unwrap()
                .contains(&key)
        );
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap(); // again: still fine
        assert!(matches!(
            store.get(&key, None).await.map(|_| ()),
            Err(BlobError::NotFound)
        ));
    }

    presigned_gets(store.as_ref()).await;

    // A writer dropped before finish leaves nothing visible.
    let before = store.keys_older_than(Duration::ZERO).await.unwrap();
    let mut writer = store.create().await.unwrap();
    for piece in data(large).chunks(1 << 20) {
        writer.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    drop(writer);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.keys_older_than(Duration::ZERO).await.unwrap(), before);

    // Keys that are not the store's own are refused, never used as names.
    for bad in ["../etc/passwd", "ABCDEF0123456789ABCDEF0123456789", ""] {
        assert!(matches!(
            store.get(bad, None).await.map(|_| ()),
            Err(BlobError::InvalidKey(_))
        ));
    }
}

/// A store that offers URLs of its own serves the blob there, with the
/// headers asked for, until they expire; a store without them says so.
async fn presigned_gets(store: &dyn BlobStore) {
    let bytes = data(70_000);
    let key = write(store, &bytes, 64 * 1024).await;
    let headers = ResponseHeaders {
        content_type: "application/pdf".into(),
        content_disposition: "attachment; filename=\"Brief \u{fc}.pdf\"".into(),
    };
    let Some(url) = store
        .presigned_get(&key, Duration::from_secs(60), &headers)
        .unwrap()
    else {
        store.delete(&key).await.unwrap();
        return;
    };
    let http = reqwest::Client::new();
    let answer = http.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let header = |name: &str| answer.headers()[name].to_str().map(str::to_owned);
    assert_eq!(header("content-type").unwrap(), headers.content_type);
    assert_eq!(
        answer.headers()["content-disposition"].as_bytes(),
        headers.content_disposition.as_bytes()
    );
    assert_eq!(answer.bytes().await.unwrap(), bytes);

    // Another key under the same signature is refused.
    let other = write(store, b"other", 64).await;
    let forged = url.replace(&key, &other);
    assert_eq!(http.get(&forged).send().await.unwrap().status(), 403);

    // An expired URL is refused (Garage says 400 "date too old", AWS 403).
    let short = store
        .presigned_get(&key, Duration::from_secs(1), &headers)
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = http.get(&short).send().await.unwrap().status();
    assert!(late == 400 || late == 403, "{late}");
    for key in [key, other] {
        store.delete(&key).await.unwrap();
    }
}

#[tokio::test]
async fn the_file_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    contract(Arc::new(store), 12 << 20).await;
}

/// The test Garage, with a fresh prefix so runs never see each other.
fn garage() -> Option<S3Config> {
    if std::env::var("INTAKE_TEST_SKIP_GARAGE").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: INTAKE_TEST_SKIP_GARAGE=1");
        return None;
    }
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set. Start the test Garage with\n  \
                 eval \"$(scripts/garage/start.sh /tmp/intake-garage)\"\n\
                 or run scripts/test.sh (INTAKE_TEST_SKIP_GARAGE=1 skips these tests)"
            )
        })
    };
    Some(S3Config {
        endpoint: Some(var("INTAKE_TEST_S3_ENDPOINT")),
        bucket: var("INTAKE_TEST_S3_BUCKET"),
        region: var("INTAKE_TEST_S3_REGION"),
        access_key_id: var("INTAKE_TEST_S3_ACCESS_KEY_ID"),
        secret_access_key: var("INTAKE_TEST_S3_SECRET_ACCESS_KEY"),
        prefix: format!("test-{:016x}/", rand::random::<u64>()),
        part_size: 5 << 20,
        max_parts_in_flight: 2,
    })
}

#[tokio::test]
async fn the_s3_store_keeps_the_contract() {
    let Some(config) = garage() else { return };
    let store = S3Store::open(&config).unwrap();
    store.check().await.unwrap();
    // 12 MiB: a multipart upload of three parts.
    contract(Arc::new(store), 12 << 20).await;
}

#[tokio::test]
async fn a_wrong_secret_is_found_at_the_check() {
    let Some(mut config) = garage() else { return };
    config.secret_access_key = "0".repeat(64);
    let store = S3Store::open(&config).unwrap();
    assert!(store.check().await.is_err());
}
