//! Unit tests for the clamd client: address and reply parsing, and the wire framing against a
//! fake clamd on an in-memory pipe. The real clamd is exercised in tests/clamd.rs.

use super::*;
use tokio::io::duplex;

#[test]
fn parses_addresses() {
    let tcp = |s: &str| ClamdAddr::Tcp(s.to_owned());
    let unix = |s: &str| ClamdAddr::Unix(PathBuf::from(s));
    let cases = [
        ("tcp://127.0.0.1:3310", tcp("127.0.0.1:3310")),
        ("127.0.0.1:3310", tcp("127.0.0.1:3310")),
        ("clamd.internal:3310", tcp("clamd.internal:3310")),
        ("tcp://[::1]:3310", tcp("[::1]:3310")),
        (" localhost:1 ", tcp("localhost:1")),
        (
            "unix:///run/clamav/clamd.ctl",
            unix("/run/clamav/clamd.ctl"),
        ),
        (
            "/tmp/intake-clamd/clamd.sock",
            unix("/tmp/intake-clamd/clamd.sock"),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(input.parse::<ClamdAddr>(), Ok(want), "{input}");
    }
}

#[test]
fn rejects_bad_addresses() {
    for input in [
        "",
        "127.0.0.1",
        "tcp://127.0.0.1",
        ":3310",
        "localhost:0",
        "localhost:65536",
        "localhost:port",
        "::1:3310",
        "unix://relative.sock",
        "unix://",
        "http://127.0.0.1:3310",
        "tcp://host:3310/path",
        "clamd.sock",
    ] {
        assert!(input.parse::<ClamdAddr>().is_err(), "{input:?} parsed");
    }
}

#[test]
fn addresses_round_trip_through_display_and_serde() {
    for input in [
        "tcp://127.0.0.1:3310",
        "tcp://[::1]:3310",
        "unix:///run/clamd.sock",
    ] {
        let addr: ClamdAddr = input.parse().unwrap();
        assert_eq!(addr.to_string(), input);
        assert_eq!(addr.to_string().parse::<ClamdAddr>().unwrap(), addr);
        let addr: ClamdAddr = serde_json_like(input);
        assert_eq!(addr.to_string(), input);
    }
    assert_eq!(
        "127.0.0.1:3310".parse::<ClamdAddr>().unwrap().to_string(),
        "tcp://127.0.0.1:3310"
    );
}

/// Deserializes through serde's string path without pulling in a format crate.
fn serde_json_like(s: &str) -> ClamdAddr {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};
    let de: StrDeserializer<'_, Error> = s.into_deserializer();
    ClamdAddr::deserialize(de).unwrap()
}

#[test]
fn parses_scan_replies() {
    assert_eq!(parse_scan_reply("stream: OK").unwrap(), Verdict::Clean);
    assert_eq!(
        parse_scan_reply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND").unwrap(),
        Verdict::Infected {
            signature: "Eicar-Test-Signature.UNOFFICIAL".to_owned()
        }
    );
    assert_eq!(
        parse_scan_reply("stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND")
            .unwrap(),
        Verdict::Infected {
            signature: "Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68)".to_owned()
        }
    );
    assert!(matches!(
        parse_scan_reply("INSTREAM size limit exceeded. ERROR"),
        Err(ScanError::TooLarge { limit: None })
    ));
    match parse_scan_reply("stream: Can't allocate memory ERROR") {
        Err(e @ ScanError::Clamd(_)) => {
            assert!(e.is_retryable());
            assert!(e.to_string().contains("Can't allocate memory"));
        }
        other => panic!("{other:?}"),
    }
    for reply in [
        "stream: FOUND",
        "stream:  FOUND",
        "UNKNOWN COMMAND",
        "PONG",
        "stream: ok",
    ] {
        match parse_scan_reply(reply) {
            Err(e @ ScanError::Protocol(_)) => assert!(!e.is_retryable()),
            other => panic!("{reply:?} gave {other:?}"),
        }
    }
}

#[test]
fn too_large_says_which_limit() {
    let client = ScanError::TooLarge {
        limit: Some(1_048_576),
    };
    assert!(client.to_string().contains("1048576-byte limit"));
    let server = ScanError::TooLarge { limit: None };
    assert!(server.to_string().contains("StreamMaxLength"));
    assert!(!client.is_retryable() && !server.is_retryable());
}

#[test]
fn check_size_uses_the_client_limit() {
    let addr: ClamdAddr = "127.0.0.1:3310".parse().unwrap();
    let unlimited = Clamd::new(addr.clone());
    assert!(unlimited.check_size(u64::MAX).is_ok());
    let limited = Clamd::new(addr).with_stream_max_length(Some(10));
    assert!(limited.check_size(10).is_ok());
    assert!(matches!(
        limited.check_size(11),
        Err(ScanError::TooLarge { limit: Some(10) })
    ));
}

/// A fake clamd on the other end of a pipe: checks the framing, returns the data it got.
async fn fake_clamd(
    mut conn: tokio::io::DuplexStream,
    chunk_size: usize,
    reply: &'static [u8],
) -> Vec<u8> {
    let mut command = [0u8; 10];
    conn.read_exact(&mut command).await.unwrap();
    assert_eq!(&command, b"zINSTREAM\0");
    let mut data = Vec::new();
    loop {
        let len = conn.read_u32().await.unwrap() as usize;
        if len == 0 {
            break;
        }
        assert!(len <= chunk_size, "chunk of {len} > {chunk_size}");
        let start = data.len();
        data.resize(start + len, 0);
        conn.read_exact(&mut data[start..]).await.unwrap();
    }
    conn.write_all(reply).await.unwrap();
    data
}

#[tokio::test]
async fn frames_chunks_and_ends_with_a_zero_chunk() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (mut client, server) = duplex(4096);
    let server = tokio::spawn(fake_clamd(server, 1000, b"stream: OK\0"));
    let verdict = stream_to(&mut client, &payload[..], 1000, None)
        .await
        .unwrap();
    assert_eq!(verdict, Verdict::Clean);
    assert_eq!(server.await.unwrap(), payload);
}

#[tokio::test]
async fn empty_stream_is_just_the_terminator() {
    let (mut client, server) = duplex(64);
    let server = tokio::spawn(fake_clamd(server, 16, b"stream: OK\0"));
    let verdict = stream_to(&mut client, tokio::io::empty(), 16, None)
        .await
        .unwrap();
    assert_eq!(verdict, Verdict::Clean);
    assert!(server.await.unwrap().is_empty());
}

#[tokio::test]
async fn client_limit_refuses_before_sending_the_excess() {
    let (mut client, mut server) = duplex(1 << 20);
    let err = stream_to(&mut client, &[7u8; 100][..], 30, Some(60))
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::TooLarge { limit: Some(60) }));
    drop(client);
    let mut sent = Vec::new();
    server.read_to_end(&mut sent).await.unwrap();
    // The command plus two 30-byte chunks; the third would pass the limit.
    assert_eq!(sent.len(), 10 + 2 * (4 + 30));
}

#[tokio::test]
async fn reads_the_reply_after_clamd_closes_mid_stream() {
    let (mut client, mut server) = duplex(1024);
    let server = tokio::spawn(async move {
        let mut command = [0u8; 10];
        server.read_exact(&mut command).await.unwrap();
        server
            .write_all(b"INSTREAM size limit exceeded. ERROR\0")
            .await
            .unwrap();
        // Dropping closes the pipe: the client's next write fails with a broken pipe.
    });
    let big = vec![1u8; 1 << 20];
    let err = stream_to(&mut client, &big[..], 4096, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScanError::TooLarge { limit: None }),
        "{err:?}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn a_close_without_reply_is_a_retryable_io_error() {
    let (mut client, server) = duplex(1024);
    drop(server);
    let err = stream_to(&mut client, &b"hello"[..], 16, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::Io(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn source_errors_are_not_blamed_on_clamd() {
    struct Failing;
    impl AsyncRead for Failing {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            std::task::Poll::Ready(Err(io::Error::other("disk gone")))
        }
    }
    let (mut client, _server) = duplex(1024);
    let err = stream_to(&mut client, Failing, 16, None).await.unwrap_err();
    assert!(matches!(err, ScanError::Source(_)), "{err:?}");
}

#[tokio::test]
async fn overlong_replies_are_protocol_errors() {
    let (mut client, mut server) = duplex(1 << 16);
    server
        .write_all(&[b'x'; MAX_REPLY_LEN + 600])
        .await
        .unwrap();
    let err = read_reply(&mut client).await.unwrap_err();
    assert!(matches!(err, ScanError::Protocol(_)), "{err:?}");
}

#[test]
fn scan_futures_can_be_spawned() {
    fn is_send<T: Send>(_: &T) {}
    let clamd = Clamd::new(ClamdAddr::Unix(PathBuf::from("/nonexistent")));
    is_send(&clamd.scan(tokio::io::empty()));
    is_send(&clamd.ping());
}
