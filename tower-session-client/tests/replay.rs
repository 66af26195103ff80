//! Which request bodies are resent after a refresh (against the real server layers of
//! `tower_session_testkit::multi_host`; `/upload` is behind `RequireSessionLayer`, which answers 401 before
//! reading the body).
#![allow(missing_docs, clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::StatusCode;
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use tower_session_client::{
    ClientConfig, ClientError, NotReplayableReason, SessionClientLayer, SessionErrorMode,
    SessionNotice, TransferMethod,
};

use tower_session_testkit::multi_host::{Server, SignIn};

type Boxed = UnsyncBoxBody<Bytes, Infallible>;

fn post<B>(url: &str, body: B) -> http::Request<B> {
    http::Request::post(url).body(body).unwrap()
}

/// A body whose second chunk arrives later: a real stream.
fn streaming() -> (
    Boxed,
    tokio::sync::mpsc::Sender<Result<Frame<Bytes>, Infallible>>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (StreamBody::new(stream).boxed_unsync(), tx)
}

#[tokio::test]
async fn a_streaming_body_is_not_resent_and_the_error_says_why() {
    let server = Server::start_with(1, 60).await;
    server.st.lie_about_expiry(); // the client does not know when its token expires
    let layer = SessionClientLayer::new(server.config(TransferMethod::Header));
    let client = server.client::<Boxed>(&layer);
    client.sign_in("alice").await.unwrap();
    server.st.wait_for_expiry().await;

    let (body, tx) = streaming();
    tx.send(Ok(Frame::data(Bytes::from_static(b"part one, "))))
        .await
        .unwrap();
    let feeder = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let _ = tx
            .send(Ok(Frame::data(Bytes::from_static(b"part two"))))
            .await;
    });
    let err = client
        .call_once(post(&server.url("api2.example.test", "/upload"), body))
        .await
        .unwrap_err();
    feeder.await.unwrap();
    match &err {
        ClientError::NotReplayable { reason, status } => {
            assert_eq!(*reason, NotReplayableReason::StreamingBody);
            assert_eq!(*status, StatusCode::UNAUTHORIZED);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("stream"), "{err}");
    assert_eq!(server.st.uploads.load(Ordering::SeqCst), 1, "sent once");
    // The session itself was refreshed: the caller can send it again.
    assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
    let (body, tx) = streaming();
    tx.send(Ok(Frame::data(Bytes::from_static(b"again"))))
        .await
        .unwrap();
    drop(tx);
    let resp = client
        .call_once(post(&server.url("api2.example.test", "/upload"), body))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_streaming_body_in_response_mode_returns_the_401_with_a_notice() {
    let server = Server::start(1).await;
    server.st.lie_about_expiry(); // the client does not know when its token expires
    let config = ClientConfig::builder(&server.url("api.example.test", ""))
        .shared_domain(".example.test".parse().unwrap())
        .session_errors(SessionErrorMode::Response)
        .build()
        .unwrap();
    let layer = SessionClientLayer::new(config);
    let client = server.client::<Boxed>(&layer);
    client.sign_in("alice").await.unwrap();
    server.st.wait_for_expiry().await;
    let (body, tx) = streaming();
    let feeder = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"late")))).await;
    });
    let resp = client
        .call_once(post(&server.url("api3.example.test", "/upload"), body))
        .await
        .unwrap();
    feeder.await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.extensions().get::<SessionNotice>(),
        Some(&SessionNotice::NotReplayed(
            NotReplayableReason::StreamingBody
        ))
    );
}

#[tokio::test]
async fn full_and_complete_bodies_are_resent_once() {
    let server = Server::start(1).await;
    server.st.lie_about_expiry(); // the client does not know when its token expires
    let layer = SessionClientLayer::new(server.config(TransferMethod::Cookie));
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    server.st.wait_for_expiry().await;
    let resp = client
        .call_once(post(
            &server.url("api2.example.test", "/upload"),
            Full::new(Bytes::from(vec![7u8; 1000])),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"bytes":1000}"#);
    assert_eq!(
        server.st.uploads.load(Ordering::SeqCst),
        2,
        "sent, then resent"
    );

    // A boxed body that is complete when sent is buffered and resent too.
    let client = server.client::<Boxed>(&layer);
    server.st.wait_for_expiry().await;
    let (body, tx) = streaming();
    tx.send(Ok(Frame::data(Bytes::from_static(b"0123456789"))))
        .await
        .unwrap();
    drop(tx);
    let resp = client
        .call_once(post(&server.url("api3.example.test", "/upload"), body))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"bytes":10}"#);
    assert_eq!(server.st.uploads.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_body_over_the_replay_limit_is_not_resent() {
    let server = Server::start(1).await;
    server.st.lie_about_expiry(); // the client does not know when its token expires
    let config = ClientConfig::builder(&server.url("api.example.test", ""))
        .shared_domain(".example.test".parse().unwrap())
        .replay_limit(100)
        .build()
        .unwrap();
    let layer = SessionClientLayer::new(config);
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    server.st.wait_for_expiry().await;
    let err = client
        .call_once(post(
            &server.url("api2.example.test", "/upload"),
            Full::new(Bytes::from(vec![1u8; 101])),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::NotReplayable {
                reason: NotReplayableReason::OverLimit { limit: 100 },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.st.uploads.load(Ordering::SeqCst), 1);
}
