//! The contract's "Session recipe" section over real HTTP: `--check-database` (a revoked
//! session refused at once with it, served until its access token expires without it),
//! `GET|PUT /sessiondata` (kept across refreshes, never in the token), `POST
//! {base}/demo/revoke-all`, `--session-expired-status` / `--invalid-claim-status`, and bad
//! values of those flags exiting 2 with a line naming the flag.

mod common;

use std::process::{Command, Stdio};

use common::Demo;

const DEMO: &str = env!("CARGO_BIN_EXE_multi-api-demo");

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn sessioninfo(demo: &Demo, host: &str, access: &str) -> common::Reply {
    demo.request(
        "GET",
        host,
        "/sessioninfo",
        &[("authorization", &bearer(access))],
        "",
    )
}

fn revoke_all(demo: &Demo, access: &str) -> common::Reply {
    demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/revoke-all",
        &[("authorization", &bearer(access)), ("rid", "session")],
        "",
    )
}

#[test]
fn check_database_refuses_a_revoked_session_at_once() {
    let demo = Demo::start(&["--check-database"]);
    let (alice, _) = demo.sign_in("alice");
    let (_alice2, _) = demo.sign_in("alice");
    let (bob, _) = demo.sign_in("bob");
    for host in ["api.example.test", "api2.example.test", "api3.example.test"] {
        assert_eq!(sessioninfo(&demo, host, &alice).status, 200, "{host}");
    }
    let revoked = revoke_all(&demo, &alice);
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&revoked.body).expect("json"),
        serde_json::json!({"status": "OK", "revoked": 2})
    );
    for host in ["api.example.test", "api2.example.test", "api3.example.test"] {
        let reply = sessioninfo(&demo, host, &alice);
        assert_eq!(reply.status, 401, "{host}: {reply:?}");
        assert_eq!(reply.body, r#"{"message":"unauthorised"}"#, "{host}");
    }
    assert_eq!(sessioninfo(&demo, "api2.example.test", &bob).status, 200);
    let data = demo.request(
        "GET",
        "api.example.test",
        "/sessiondata",
        &[("authorization", &bearer(&alice))],
        "",
    );
    assert_eq!(data.status, 401, "{data:?}");
}

#[test]
fn without_the_check_a_revoked_session_is_served_until_its_token_expires() {
    let demo = Demo::start(&[]);
    let (alice, refresh) = demo.sign_in("alice");
    assert_eq!(revoke_all(&demo, &alice).status, 200);
    // Documented: access tokens are verified without the store.
    assert_eq!(sessioninfo(&demo, "api2.example.test", &alice).status, 200);
    // The refresh sees it.
    assert_eq!(demo.refresh(&refresh).status, 401);
}

#[test]
fn session_data_is_kept_across_refreshes_and_never_in_the_token() {
    let demo = Demo::start(&[]);
    let (access, refresh) = demo.sign_in("alice");
    let get = |access: &str| {
        demo.request(
            "GET",
            "api.example.test",
            "/sessiondata",
            &[("authorization", &bearer(access))],
            "",
        )
    };
    let put = |access: &str, body: &str| {
        demo.request(
            "PUT",
            "api.example.test",
            "/sessiondata",
            &[
                ("authorization", &bearer(access)),
                ("content-type", "application/json"),
                ("rid", "session"),
            ],
            body,
        )
    };
    let first = get(&access);
    assert_eq!(
        (first.status, first.body.as_str()),
        (200, "{}"),
        "{first:?}"
    );
    let reply = put(&access, r#"{"theme":"dark","items":[1,2,{"x":null}]}"#);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, r#"{"status":"OK"}"#);
    assert_eq!(put(&access, "[1,2]").status, 400);
    assert_eq!(put(&access, "not json").status, 400);

    let refreshed = demo.refresh(&refresh);
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    let access2 = refreshed
        .header("st-access-token")
        .expect("access")
        .to_owned();
    let data = get(&access2);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&data.body).expect("json"),
        serde_json::json!({"theme": "dark", "items": [1, 2, {"x": null}]})
    );
    let info = sessioninfo(&demo, "api.example.test", &access2);
    assert!(
        !info.body.contains("dark"),
        "not in the token: {}",
        info.body
    );
    // Replaced, not merged.
    assert_eq!(put(&access2, r#"{"n":1}"#).status, 200);
    assert_eq!(get(&access2).body, r#"{"n":1}"#);
    // Nothing on api2: the route is the api host's.
    let elsewhere = demo.request(
        "GET",
        "api2.example.test",
        "/sessiondata",
        &[("authorization", &bearer(&access2))],
        "",
    );
    assert_eq!(elsewhere.status, 404);
}

#[test]
fn configured_statuses_are_answered() {
    let demo = Demo::start(&[
        "--session-expired-status",
        "440",
        "--invalid-claim-status=499",
        "--access-token-ttl",
        "1",
    ]);
    let (access, refresh) = demo.sign_in("alice");
    assert_eq!(sessioninfo(&demo, "api2.example.test", &access).status, 200);
    let bad = sessioninfo(&demo, "api2.example.test", "nonsense");
    assert_eq!((bad.status, bad.message().as_str()), (440, "unauthorised"));
    let none = demo.request("GET", "api3.example.test", "/sessioninfo", &[], "");
    assert_eq!(none.status, 440);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let expired = sessioninfo(&demo, "api2.example.test", &access);
    assert_eq!(
        (expired.status, expired.message().as_str()),
        (440, "try refresh token")
    );
    assert_eq!(demo.refresh(&refresh).status, 200);
    assert_eq!(demo.refresh("h.0.f.t").status, 440);
}

fn bad_flag(args: &[&str], flag: &str) {
    let out = Command::new(DEMO)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    // One error line (a verify-only process may log its plain-http JWKS warning first).
    assert!(
        stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .is_some_and(|l| l.contains(flag)),
        "{args:?}: {stderr:?} names {flag}"
    );
}

#[test]
fn bad_recipe_flags_exit_2_naming_the_flag() {
    bad_flag(
        &["--session-expired-status", "500"],
        "--session-expired-status",
    );
    bad_flag(
        &["--session-expired-status", "abc"],
        "--session-expired-status",
    );
    bad_flag(&["--session-expired-status"], "--session-expired-status");
    bad_flag(&["--invalid-claim-status", "200"], "--invalid-claim-status");
    bad_flag(&["--invalid-claim-status=4030"], "--invalid-claim-status");
    bad_flag(
        &["--session-expired-status", "403"],
        "--session-expired-status",
    );
    // A status of the refusals that keep the session (ambiguous credentials, oversized Cookie).
    bad_flag(
        &["--session-expired-status", "431"],
        "--session-expired-status",
    );
    bad_flag(&["--check-database=yes"], "--check-database");
    bad_flag(
        &[
            "--serve",
            "api2",
            "--jwks-url",
            "http://127.0.0.1:1/auth/jwt/jwks.json",
            "--check-database",
        ],
        "--check-database",
    );
}
