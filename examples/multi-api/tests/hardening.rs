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
