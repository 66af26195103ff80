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
        assert!(reply.head.len() < 1024, "{len}: {} bytes of head", reply.head.len());
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
