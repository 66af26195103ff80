//! Bad input never panics, never fails the request and never leaks a token.

use std::{
    convert::Infallible,
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use http::{header, HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, ServiceExt};
use tower_session_cookie::{
    ClearScope, SessionCookie, SessionCookieConfig, SessionTokens, TransferMethod,
    DEFAULT_MAX_COOKIE_HEADER_BYTES,
};

fn config() -> SessionCookieConfig {
    SessionCookieConfig::builder()
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .build()
        .expect("valid config")
}

/// Runs one request through the layer; `handler` gets the handle and may record changes.
async fn run(
    headers: &[(&str, &[u8])],
    handler: impl Fn(&SessionTokens) + Clone + Send + 'static,
) -> (SessionTokens, Response<()>) {
    let seen: Arc<Mutex<Option<SessionTokens>>> = Arc::default();
    let seen_inside = Arc::clone(&seen);
    let service = SessionCookie::new(
        service_fn(move |request: Request<()>| {
            let handler = handler.clone();
            let seen = Arc::clone(&seen_inside);
            async move {
                let tokens = request
                    .extensions()
                    .get::<SessionTokens>()
                    .cloned()
                    .expect("the layer always inserts the handle");
                handler(&tokens);
                *seen.lock().expect("lock") = Some(tokens);
                Ok::<_, Infallible>(Response::new(()))
            }
        }),
        config(),
    );
    let mut request = Request::builder().uri("/orders");
    for (name, value) in headers {
        request = request.header(*name, HeaderValue::from_bytes(value).expect("header bytes"));
    }
    let response = service
        .oneshot(request.body(()).expect("request"))
        .await
        .expect("infallible");
    let tokens = seen.lock().expect("lock").take().expect("handler ran");
    (tokens, response)
}

fn access(tokens: &SessionTokens) -> Option<(&str, TransferMethod)> {
    tokens.access_token().map(|t| (t.as_str(), t.method))
}

#[tokio::test]
async fn malformed_cookie_pairs_are_skipped_and_good_ones_kept() {
    let (tokens, response) = run(
        &[(
            "cookie",
            b";;; =x; novalue; sAccessToken; ==; a=b=c; sAccessToken=ok.token; ;",
        )],
        |_| {},
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(access(&tokens), Some(("ok.token", TransferMethod::Cookie)));
}

#[tokio::test]
async fn non_utf8_cookie_headers_are_tolerated() {
    let (tokens, response) = run(
        &[
            (
                "cookie",
                b"name=\xff\xfe; \xc3\x28=bad; sAccessToken=ok.token",
            ),
            ("cookie", b"sRefreshToken=\xe2\x82"),
        ],
        |_| {},
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(access(&tokens), Some(("ok.token", TransferMethod::Cookie)));
    assert!(tokens.refresh_token().is_none());
}

#[tokio::test]
async fn oversized_cookie_headers_mean_no_cookie_tokens_not_an_error() {
    let padding = "p".repeat(DEFAULT_MAX_COOKIE_HEADER_BYTES);
    let big = format!("sAccessToken=cookie.token; pad={padding}");
    let (tokens, response) = run(&[("cookie", big.as_bytes())], |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(tokens.cookie_header_too_large());
    assert!(tokens.access_token().is_none());

    // The bearer token still counts.
    let (tokens, _) = run(
        &[
            ("cookie", big.as_bytes()),
            ("authorization", b"Bearer header.token"),
        ],
        |_| {},
    )
    .await;
    assert_eq!(
        access(&tokens),
        Some(("header.token", TransferMethod::Header))
    );

    // Exactly at the limit is fine.
    let prefix = "sAccessToken=cookie.token; pad=";
    let exact = format!(
        "{prefix}{}",
        "p".repeat(DEFAULT_MAX_COOKIE_HEADER_BYTES - prefix.len())
    );
    assert_eq!(exact.len(), DEFAULT_MAX_COOKIE_HEADER_BYTES);
    let (tokens, _) = run(&[("cookie", exact.as_bytes())], |_| {}).await;
    assert!(!tokens.cookie_header_too_large());
    assert_eq!(
        access(&tokens),
        Some(("cookie.token", TransferMethod::Cookie))
    );
}

#[tokio::test]
async fn token_values_with_invalid_characters_are_ignored() {
    for value in [
        &b"sAccessToken=a b"[..],
        b"sAccessToken=a,b",
        b"sAccessToken=a\"b",
        b"sAccessToken=a%3Bb",
        b"sAccessToken=\xc3\xa9t\xc3\xa9",
        b"sAccessToken=a\\b",
        b"sAccessToken=",
        b"sAccessToken=\"\"",
    ] {
        let (tokens, response) = run(&[("cookie", value)], |_| {}).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(tokens.access_token().is_none(), "{value:?}");
    }
}

#[tokio::test]
async fn unknown_auth_modes_mean_no_preference() {
    for value in [&b"cookies"[..], b"", b"HEADER,cookie", b"\xff", b"none"] {
        let (tokens, response) = run(&[("st-auth-mode", value)], |_| {}).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(tokens.requested_method(), None, "{value:?}");
        assert_eq!(tokens.method_for_new_session(), TransferMethod::Header);
    }
}

#[tokio::test]
async fn values_that_could_inject_attributes_are_never_written() {
    let (_, response) = run(&[], |tokens| {
        let expires = SystemTime::now() + Duration::from_secs(3600);
        tokens.set_access_token(TransferMethod::Cookie, "x; Domain=evil.com".into());
        tokens.set_refresh_token(
            TransferMethod::Cookie,
            "x\r\nSet-Cookie: a=b".into(),
            expires,
        );
        tokens.set_access_token(TransferMethod::Header, "a b".into());
        tokens.set_refresh_token(TransferMethod::Header, String::new(), expires);
        tokens.set_anti_csrf("x;y".into());
        tokens.set_anti_csrf("\u{7f}".into());
    })
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().is_empty(), "{:?}", response.headers());

    // A valid token next to a refused one is still written.
    let (_, response) = run(&[], |tokens| {
        tokens.set_access_token(TransferMethod::Cookie, "good.token".into());
        tokens.set_anti_csrf("bad value".into());
    })
    .await;
    let cookies: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .collect();
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0]
        .to_str()
        .expect("ascii")
        .starts_with("sAccessToken=good.token; "));
    assert!(cookies[0].is_sensitive());
    assert!(response.headers().get("anti-csrf").is_none());
}

#[tokio::test]
async fn token_bearing_headers_are_sensitive() {
    let (_, response) = run(&[], |tokens| {
        tokens.set_access_token(TransferMethod::Header, "a.b.c".into());
        tokens.set_refresh_token(TransferMethod::Header, "r.s".into(), SystemTime::now());
        tokens.set_anti_csrf("csrf".into());
    })
    .await;
    for name in ["st-access-token", "st-refresh-token", "anti-csrf"] {
        assert!(response.headers()[name].is_sensitive(), "{name}");
    }
}

#[tokio::test]
async fn clear_drops_pending_sets_and_later_sets_win() {
    let (_, response) = run(&[], |tokens| {
        tokens.set_access_token(TransferMethod::Header, "old.token".into());
        tokens.set_anti_csrf("old".into());
        tokens.clear(ClearScope::Method(TransferMethod::Cookie));
        tokens.set_access_token(TransferMethod::Cookie, "new.token".into());
    })
    .await;
    let headers = response.headers();
    // The header-mode set before the clear is gone, the cookie set after it stays.
    assert!(headers.get("st-access-token").is_none());
    assert!(headers.get("anti-csrf").is_none());
    let cookies: Vec<_> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[0].starts_with("sAccessToken=new.token; "));
    assert!(cookies[1].starts_with("sRefreshToken=; "));
    assert_eq!(headers["front-token"], "remove");
}

#[tokio::test]
async fn older_domain_clear_without_configuration_is_a_no_op() {
    let (tokens, response) = run(&[], |tokens| tokens.clear_older_domain_cookies()).await;
    assert!(!tokens.has_changes());
    assert!(response.headers().is_empty());
}

#[tokio::test]
async fn inner_errors_are_kept() {
    let service = SessionCookie::new(
        service_fn(|_request: Request<()>| async { Err::<Response<()>, _>("inner failure") }),
        config(),
    );
    let error = service
        .oneshot(Request::new(()))
        .await
        .expect_err("the inner error comes back");
    assert_eq!(error, "inner failure");
}

#[tokio::test]
async fn secrets_never_reach_debug_output_or_logs() {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (tokens, _) = run(
        &[
            (
                "cookie",
                b"sAccessToken=SECRET1; sAccessToken=SECRET2; sRefreshToken=bad;SECRET3",
            ),
            ("authorization", b"Bearer SECRET4 x"),
        ],
        |tokens| {
            tokens.set_access_token(TransferMethod::Cookie, "SECRET5;x".into());
            tokens.set_access_token(TransferMethod::Header, "SECRET6".into());
            tokens.set_anti_csrf("SECRET7".into());
        },
    )
    .await;
    let debug = format!("{tokens:?} {:?}", tokens.config());
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("duplicate"), "the events are emitted: {logs}");
    for secret in [
        "SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5", "SECRET6", "SECRET7",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
}

#[tokio::test]
async fn oversized_bearer_values_are_ignored_and_never_copied() {
    use tower_session_cookie::MAX_BEARER_BYTES;
    let token = |len: usize| format!("Bearer {}", "a".repeat(len));
    let at_limit = token(MAX_BEARER_BYTES);
    let (tokens, response) = run(&[("authorization", at_limit.as_bytes())], |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        tokens.access_token().map(|t| t.len()),
        Some(MAX_BEARER_BYTES)
    );

    let past_limit = token(MAX_BEARER_BYTES + 1);
    let cookie = b"sAccessToken=from-the-cookie";
    let (tokens, response) = run(
        &[("authorization", past_limit.as_bytes()), ("cookie", cookie)],
        |_| {},
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "bad input never fails the request"
    );
    let access = tokens.access_token().expect("the cookie still counts");
    assert_eq!(access.method, TransferMethod::Cookie);
    assert_eq!(access.as_str(), "from-the-cookie");
}
