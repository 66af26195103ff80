//! The demo as a black box over real HTTP, probed the way an attacker on loopback would:
//! per-user responses are not cacheable, and the holes of issue 20 stay closed.

mod common;

use common::Demo;

#[test]
fn sessioninfo_is_not_stored_by_shared_caches() {
    let demo = Demo::start(&[]);
    let (access, _) = demo.sign_in("alice");
    for host in ["api.example.test", "api2.example.test", "api3.example.test"] {
        let reply = demo.request(
            "GET",
            host,
            "/sessioninfo",
            &[("authorization", &format!("Bearer {access}"))],
            "",
        );
        assert_eq!(reply.status, 200, "{host}: {reply:?}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{host}");
        let vary = reply.headers("vary").join(", ").to_ascii_lowercase();
        assert!(
            vary.contains("cookie") && vary.contains("authorization"),
            "{host}: vary {vary:?}"
        );
    }
}

/// A 2,900-byte user id used to get an 8,354-byte access token that every later request
/// refused, and a 1 MB one 6.7 MB of response headers and ~2 MB kept per session. Now:
/// 400 with a short body, no token, nothing stored.
#[test]
fn an_oversized_user_id_gets_a_short_400_and_no_session() {
    let demo = Demo::start(&[]);
    for len in [2_900, 1 << 20] {
        let user = "u".repeat(len);
        let reply = demo.request(
            "POST",
            "api.example.test",
            "/auth/demo/signin",
            &[
                ("content-type", "application/json"),
                ("st-auth-mode", "cookie"),
            ],
            &format!(r#"{{"userId":"{user}"}}"#),
        );
        assert_eq!(reply.status, 400, "{len}: {}", reply.head);
        assert_eq!(reply.message(), "user id too long");
        assert!(
            reply.head.len() < 1024,
            "{len}: {} bytes of head",
            reply.head.len()
        );
        assert!(reply.header("set-cookie").is_none());
        assert!(reply.header("front-token").is_none());
    }
    let (access, _) = demo.sign_in(&"u".repeat(256));
    let reply = demo.request(
        "GET",
        "api2.example.test",
        "/sessioninfo",
        &[("authorization", &format!("Bearer {access}"))],
        "",
    );
    assert_eq!(reply.status, 200, "a user id at the limit works everywhere");
}

/// Cookies of a cookie-mode sign-in, as one `Cookie` header value.
fn session_cookies(demo: &Demo) -> String {
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/signin",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "cookie"),
        ],
        r#"{"userId":"alice"}"#,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
        .headers("set-cookie")
        .iter()
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// With https api and website domains, a state-changing request from an http:// page
/// under the shared domain (an attacker on the network can inject one) is refused: the
/// browser says `cross-site`, and an http origin is not the site even without that header.
#[test]
fn with_an_https_site_an_http_origin_under_the_domain_is_refused() {
    let demo = Demo::start(&[
        "--api-domain",
        "https://api.example.test",
        "--website-domain",
        "https://www.example.test",
    ]);
    let cookies = session_cookies(&demo);
    let signout = |headers: &[(&str, &str)]| {
        let mut all = vec![("cookie", cookies.as_str())];
        all.extend_from_slice(headers);
        demo.request("POST", "api.example.test", "/auth/signout", &all, "")
    };
    for (origin, sfs) in [
        ("http://nonexistent.example.test", Some("cross-site")),
        ("https://www.example.test", Some("cross-site")),
        ("http://www.example.test", None),
        ("http://www.example.test", Some("same-site")),
    ] {
        let mut headers = vec![("origin", origin)];
        if let Some(sfs) = sfs {
            headers.push(("sec-fetch-site", sfs));
        }
        let reply = signout(&headers);
        assert_eq!(reply.status, 403, "{origin} {sfs:?}: {reply:?}");
    }
    let reply = signout(&[
        ("origin", "https://www.example.test"),
        ("sec-fetch-site", "same-site"),
    ]);
    assert_eq!(reply.status, 200, "the website itself: {reply:?}");
}

/// `GET http://api2.example.test/sessioninfo` with an invalid Host used to be served by
/// api2, and so was an `ftp://` target. Now 400, and never reaching a route.
#[test]
fn absolute_form_with_an_invalid_or_foreign_host_or_scheme_is_400() {
    let demo = Demo::start(&["--allow-host", "127.0.0.1"]);
    let (access, _) = demo.sign_in("alice");
    let port = demo.port;
    let get = |target: &str, host: Option<&str>| {
        let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        common::raw(
            port,
            format!(
                "GET {target} HTTP/1.1\r\n{host}Authorization: Bearer {access}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    };
    let target = format!("http://api2.example.test:{port}/sessioninfo");
    for host in [
        "x y".to_owned(),
        "user@evil.com".to_owned(),
        "evil.com:99999".to_owned(),
        String::new(),
        "evil.com".to_owned(),
    ] {
        let reply = get(&target, Some(&host));
        assert_eq!(reply.status, 400, "Host {host:?}: {reply:?}");
        assert!(!reply.body.contains("servedBy"), "{reply:?}");
    }
    let reply = get(
        &format!("ftp://api2.example.test:{port}/sessioninfo"),
        Some(&format!("api2.example.test:{port}")),
    );
    assert_eq!(reply.status, 400, "ftp target: {reply:?}");
    let reply = get(&target, Some(&format!("api2.example.test:{port}")));
    assert_eq!(reply.status, 200, "a matching Host: {reply:?}");
    assert!(reply.body.contains(r#""servedBy":"api2.example.test""#));

    // `--allow-host 127.0.0.1` is that address, not `127.0.0.1.`.
    assert_eq!(
        demo.request("GET", "127.0.0.1", "/healthz", &[], "").status,
        200
    );
    assert_eq!(
        demo.request("GET", "127.0.0.1.", "/healthz", &[], "")
            .status,
        400
    );
}
