//! The demo as a black box, with Redis coming and going: a process started while its store
//! is down answers 503 on the auth routes (and keeps serving everything that needs no
//! store), then serves once the store is back; two processes on one Redis share signing
//! keys and sessions; a restarted process keeps verifying the tokens it issued.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tower_session_testkit::redis::OwnRedis;

/// Kills the child on drop, so a failed assertion leaves no process behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_demo(args: &[&str]) -> (Killed, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_multi-api-demo"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start multi-api-demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let port = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (Killed(child), port)
}

/// One HTTP/1.1 request; returns (status, head, body).
fn request(
    port: u16,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn sign_in(port: u16) -> (u16, String, String) {
    request(
        port,
        "POST",
        "api.example.test",
        "/auth/demo/signin",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "header"),
        ],
        r#"{"userId":"alice"}"#,
    )
}

#[test]
fn a_store_that_is_down_at_start_gives_503_then_the_process_serves_once_it_is_back() {
    let mut redis = OwnRedis::new();
    let url = redis.url();
    let (_demo, port) = start_demo(&["--store", &url]);

    // No store: auth routes answer 503 and clear nothing; the rest keeps serving.
    let (status, head, body) = sign_in(port);
    assert_eq!(status, 503, "{head}{body}");
    assert!(body.contains("unavailable"), "{body}");
    assert!(header(&head, "set-cookie").is_none(), "{head}");
    assert!(header(&head, "front-token").is_none(), "{head}");
    let (status, head, _) = request(
        port,
        "POST",
        "api.example.test",
        "/auth/session/refresh",
        &[
            (
                // Well formed (handle.generation.family.secret), so only the store can
                // say it is unknown.
                "authorization",
                "Bearer 5a1f3c1e-2b7d-4f0a-9c3e-8d6b4a2f1e0c.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            ),
            ("st-auth-mode", "header"),
            ("rid", "session"),
        ],
        "",
    );
    assert_eq!(status, 503, "refresh while the store is down: {head}");
    assert!(
        header(&head, "front-token").is_none(),
        "an outage must not sign anyone out: {head}"
    );
    assert!(header(&head, "set-cookie").is_none(), "{head}");
    assert_eq!(
        request(port, "GET", "api2.example.test", "/healthz", &[], "").0,
        200
    );

    // The store comes up: the same process starts serving, without a restart.
    redis.start();
    let deadline = Instant::now() + Duration::from_secs(15);
    let (head, _) = loop {
        let (status, head, body) = sign_in(port);
        if status == 200 {
            break (head, body);
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the store came back: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let access = header(&head, "st-access-token").expect("an access token");
    let bearer = format!("Bearer {access}");
    let (status, _, body) = request(
        port,
        "GET",
        "api3.example.test",
        "/sessioninfo",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""userId":"alice""#), "{body}");
}

#[test]
fn two_processes_on_one_redis_share_keys_and_a_restart_keeps_old_tokens_valid() {
    let mut redis = OwnRedis::new();
    redis.start();
    let url = redis.url();
    let (a, port_a) = start_demo(&["--store", &url]);
    let (_b, port_b) = start_demo(&["--store", &url]);

    // Sign in on A; B verifies A's token and refreshes A's session.
    let (status, head, body) = sign_in(port_a);
    assert_eq!(status, 200, "{body}");
    let access = header(&head, "st-access-token").expect("access").to_owned();
    let refresh = header(&head, "st-refresh-token")
        .expect("refresh")
        .to_owned();
    let (status, _, body) = request(
        port_b,
        "GET",
        "api2.example.test",
        "/sessioninfo",
        &[("authorization", &format!("Bearer {access}"))],
        "",
    );
    assert_eq!(status, 200, "B verifies A's token: {body}");
    let (status, head, body) = request(
        port_b,
        "POST",
        "api.example.test",
        "/auth/session/refresh",
        &[
            ("authorization", &format!("Bearer {refresh}")),
            ("st-auth-mode", "header"),
            ("rid", "session"),
        ],
        "",
    );
    assert_eq!(status, 200, "B refreshes A's session: {body}");
    let new_access = header(&head, "st-access-token")
        .expect("new access")
        .to_owned();
    assert!(header(&head, "front-token").is_some());

    // A restarts: the tokens it issued before still verify.
    drop(a);
    let (_a2, port_a2) = start_demo(&["--store", &url]);
    for token in [&access, &new_access] {
        let (status, _, body) = request(
            port_a2,
            "GET",
            "api3.example.test",
            "/sessioninfo",
            &[("authorization", &format!("Bearer {token}"))],
            "",
        );
        assert_eq!(
            status, 200,
            "a restarted process verifies its old tokens: {body}"
        );
    }
}
