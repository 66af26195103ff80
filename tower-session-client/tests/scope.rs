//! The session never leaves its scope: hosts outside the shared domain on the same
//! loopback server (the real stack of `tower_session_testkit::multi_host`; its host guard answers 421 to
//! them, except `evil.test`, which it lets through) get neither the token nor the cookie,
//! in both modes, including a redirect that points outside.
#![allow(missing_docs, clippy::unwrap_used)]

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use tower_session_client::{SessionClientLayer, TransferMethod};

use tower_session_testkit::multi_host::{get, Server, SignIn};

const OUTSIDE: [&str; 5] = [
    "evil.test",
    "badexample.test",
    "example.test.evil.test",
    "api.example.test.evil.io",
    "example.org",
];

#[tokio::test]
async fn hosts_outside_the_scope_never_get_the_session() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start(60).await;
        let layer = SessionClientLayer::new(server.config(mode));
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();

        // In scope: apex, api2, a deeper subdomain.
        for host in ["api2.example.test", "example.test", "a.b.example.test"] {
            client
                .call_once(get(&server.url(host, "/sessioninfo")))
                .await
                .unwrap();
        }
        for host in OUTSIDE {
            let resp = client
                .call_once(get(&server.url(host, "/anything")))
                .await
                .unwrap();
            let expected = if host == "evil.test" {
                StatusCode::OK // let through the guard
            } else {
                StatusCode::MISDIRECTED_REQUEST // the host guard
            };
            assert_eq!(resp.status(), expected, "{host}");
        }
        // A redirect to another domain: the layer does not follow it; the caller (or a
        // redirect layer outside ours) sends the next hop through the layer again.
        let resp = client
            .call_once(get(&server.url("api2.example.test", "/redirect-out")))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
        let next = resp.headers()["location"].to_str().unwrap();
        let next = next.replace("evil.test", &format!("evil.test:{}", server.addr.port()));
        client.call_once(get(&next)).await.unwrap();

        let seen = server.st.seen();
        for s in seen
            .iter()
            .filter(|s| s.host.contains("example.test") && !s.host.ends_with("evil.test"))
        {
            if s.path == "/sessioninfo" {
                assert!(
                    s.carries_session(),
                    "{mode:?}: {} should carry the session",
                    s.host
                );
                match mode {
                    TransferMethod::Header => assert!(s.headers.contains_key("authorization")),
                    TransferMethod::Cookie => {
                        let c = s.headers["cookie"].to_str().unwrap();
                        assert!(c.contains("sAccessToken="), "{c}");
                        assert!(!c.contains("sRefreshToken="), "path-scoped: {c}");
                    }
                }
            }
        }
        let outside: Vec<_> = seen
            .iter()
            .filter(|s| OUTSIDE.contains(&s.host.as_str()) || s.host == "evil.test")
            .collect();
        assert_eq!(outside.len(), OUTSIDE.len() + 1, "{mode:?}");
        for s in outside {
            assert!(
                !s.carries_session(),
                "{mode:?}: {} got {:?}",
                s.host,
                s.headers
            );
        }
    }
}

#[tokio::test]
async fn responses_from_outside_cannot_plant_cookies_or_tokens() {
    let server = Server::start(60).await;
    for (mode, auth_mode) in [
        (TransferMethod::Cookie, "cookie"),
        (TransferMethod::Header, "header"),
        (TransferMethod::Cookie, "header"),
        (TransferMethod::Header, "cookie"),
    ] {
        let layer = SessionClientLayer::new(server.config(mode));
        let client = server.client::<Full<Bytes>>(&layer);
        // An outside host that runs the real sign-in route (the server's Set-Cookie says
        // Domain=example.test; or st-access-token headers) is still outside: nothing kept.
        let req = http::Request::post(server.url("evil.test", "/auth/demo/signin"))
            .header("st-auth-mode", auth_mode)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(br#"{"userId":"mallory"}"#)))
            .unwrap();
        let resp = client.call_once(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let planted = match auth_mode {
            "cookie" => resp.headers().contains_key("set-cookie"),
            _ => resp.headers().contains_key("st-access-token"),
        };
        assert!(planted, "{mode:?}/{auth_mode}: the server did send tokens");
        assert!(!layer.handle().exists(), "{mode:?}/{auth_mode}");
        // The next in-scope call carries nothing from evil.test.
        let resp = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{mode:?}/{auth_mode}"
        );
        let last = server.st.seen().pop().unwrap();
        assert!(!last.headers.contains_key("authorization"));
        assert!(!last.headers.contains_key("cookie"), "{mode:?}/{auth_mode}");
    }
}

#[tokio::test]
async fn without_a_shared_domain_only_the_api_host_is_in_scope() {
    let server = Server::start(60).await;
    let config = tower_session_client::ClientConfig::builder(&server.url("api.example.test", ""))
        .build()
        .unwrap();
    let layer = SessionClientLayer::new(config);
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    let ok = client
        .call_once(get(&server.url("api.example.test", "/sessioninfo")))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let other = client
        .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let last = server.st.seen().pop().unwrap();
    assert!(!last.carries_session());
}

#[test]
fn an_api_domain_outside_the_shared_domain_is_refused() {
    let err = tower_session_client::ClientConfig::builder("https://api.otherdomain.com")
        .shared_domain(".example.com".parse().unwrap())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("api.otherdomain.com"), "{err}");
}
