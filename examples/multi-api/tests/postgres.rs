//! The demo on PostgreSQL, as a black box over real HTTP: two processes on one database
//! behave as one (sign in on one, refresh on the other, theft seen across); a stopped
//! PostgreSQL (a server of the test's own, `pg_ctl`) gives 503 with nothing cleared, and
//! service resumes when it is back; a bad `--store` URL exits 2 naming the flag.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Demo;
use tower_session_testkit::postgres::{OwnPostgres, TestDatabase};

fn new_refresh_token(reply: &common::Reply) -> String {
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
        .header("st-refresh-token")
        .expect("a new refresh token")
        .to_owned()
}

fn session_info(demo: &Demo, host: &str, access: &str) -> common::Reply {
    demo.request(
        "GET",
        host,
        "/sessioninfo",
        &[("authorization", &format!("Bearer {access}"))],
        "",
    )
}

#[test]
fn two_processes_on_one_postgres_behave_as_one() {
    let db = TestDatabase::new("demo_two");
    let url = db.url();
    let a = Demo::start(&["--store", &url]);
    let b = Demo::start(&["--store", &url]);

    // Sign in on A; B verifies A's token (one key set in the database) and refreshes.
    let (access, rt0) = a.sign_in("alice");
    let reply = session_info(&b, "api2.example.test", &access);
    assert_eq!(reply.status, 200, "B verifies A's token: {reply:?}");
    let rt1 = new_refresh_token(&b.refresh(&rt0));
    // A uses B's child (a promotion), and B A's.
    let rt2 = new_refresh_token(&a.refresh(&rt1));
    let rt3 = new_refresh_token(&b.refresh(&rt2));

    // The original token comes back on A: theft, seen across processes.
    let reply = a.refresh(&rt0);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.message(), "token theft detected", "{reply:?}");
    let reply = b.refresh(&rt3);
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(
        reply.message(),
        "unauthorised",
        "the session is revoked for B too"
    );
    let log = a.wait_for_stderr(|l| l.contains("refresh token theft detected"));
    assert!(log.contains("refresh token theft detected"), "{log}");
}

#[test]
fn a_stopped_postgres_gives_503_with_nothing_cleared_and_service_resumes() {
    let pg = OwnPostgres::start();
    let url = pg.url();
    let demo = Demo::start(&["--store", &url]);
    let (access, refresh) = demo.sign_in("bob");
    // A refresh while it is up, so the token in hand is the current one.
    let refresh = new_refresh_token(&demo.refresh(&refresh));

    pg.stop();
    let reply = demo.refresh(&refresh);
    assert_eq!(
        reply.status, 503,
        "refresh while postgres is down: {reply:?}"
    );
    assert!(
        reply.header("set-cookie").is_none(),
        "nothing cleared: {reply:?}"
    );
    assert!(
        reply.header("front-token").is_none(),
        "nobody signed out: {reply:?}"
    );
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/signin",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "header"),
        ],
        r#"{"userId":"carol"}"#,
    );
    assert_eq!(
        reply.status, 503,
        "sign-in while postgres is down: {reply:?}"
    );
    assert!(reply.header("set-cookie").is_none(), "{reply:?}");
    // Access tokens verify without the store.
    assert_eq!(
        session_info(&demo, "api2.example.test", &access).status,
        200
    );

    // Back: the same token refreshes, in the same process.
    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let reply = loop {
        let reply = demo.refresh(&refresh);
        if reply.status != 503 {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "still 503 after postgres came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let next = new_refresh_token(&reply);
    assert_ne!(next, refresh);
}

#[test]
fn a_bad_postgres_url_exits_2_with_one_line_naming_the_flag() {
    for bad in [
        "postgres://127.0.0.1:5432/test",
        "postgres://u:hunter2-secret@127.0.0.1/test",
        "postgres://u@127.0.0.1:5432/",
        "postgresql://u@bad host:5432/db",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_multi-api-demo"))
            .args(["--listen", "127.0.0.1:0", "--store", bad])
            .stdin(Stdio::null())
            .output()
            .expect("run the demo");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains("--store"), "{bad}: {stderr}");
        assert!(!stderr.contains("secret"), "no password echoed: {stderr}");
    }
}
