//! The test server as the SDK suite drives it: two processes (the suite's 8080 and 8082) on
//! free ports, a fake SDK checkout, a real Redis at 127.0.0.1:6379, raw HTTP/1.1 with
//! `Host: localhost:PORT` as a browser on `localhost` sends it.
#![allow(clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A server process, killed on drop.
struct TestServer {
    // `None`: a handle on a server another `TestServer` owns (for requests from threads).
    child: Option<Child>,
    port: u16,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A directory shaped like the parts of a supertokens-website checkout the server reads.
struct FakeSdk(PathBuf);

impl FakeSdk {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sdk-test-server-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(dir.join("test/server/angular")).unwrap();
        std::fs::create_dir_all(dir.join("lib/build")).unwrap();
        std::fs::create_dir_all(dir.join("node_modules/axios/dist")).unwrap();
        std::fs::write(
            dir.join("test/server/index.html"),
            "<html>\n<script src=\"https://unpkg.com/axios/dist/axios.min.js\"></script>\n<script type=\"module\">\n  import umdAssert from 'https://cdn.skypack.dev/umd-assert';\n  window.assert = umdAssert;\n</script>\n</html>\n",
        )
        .unwrap();
        std::fs::write(dir.join("test/server/angular/main.js"), "/* angular */").unwrap();
        std::fs::write(
            dir.join("node_modules/axios/dist/axios.min.js"),
            "/* axios */",
        )
        .unwrap();
        std::fs::write(
            dir.join("lib/build/version.js"),
            "exports.package_version = \"20.1.7\";\n",
        )
        .unwrap();
        Self(dir)
    }
}

impl Drop for FakeSdk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestServer {
    fn start(sdk: &FakeSdk) -> Self {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sdk-test-server"))
            .arg("--sdk-dir")
            .arg(&sdk.0)
            .env("NODE_PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .env_remove("TRANSFER_METHOD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), format!("Server is running on port {port}"));
        Self {
            child: Some(child),
            port,
        }
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        Reply::parse(&raw)
    }

    fn post_json(&self, path: &str, body: &str) -> Reply {
        self.request("POST", path, &[("content-type", "application/json")], body)
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect::<Vec<_>>();
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            unchunk(body)
        } else {
            body.to_owned()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// Deletes the Redis keys of one test app (the server keeps them under `sdk-test:ID:`).
struct AppKeys(String);

impl Drop for AppKeys {
    fn drop(&mut self) {
        let pattern = format!("sdk-test:{}:*", self.0);
        if let Ok(out) = Command::new("redis-cli")
            .args(["--scan", "--pattern", &pattern])
            .output()
        {
            for key in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("redis-cli").args(["del", key]).output();
            }
        }
    }
}

fn app_id(url: &str) -> String {
    url.split("/appid-")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned()
}

#[test]
fn control_routes_answer_as_the_original() {
    let sdk = FakeSdk::new();
    let server = TestServer::start(&sdk);

    assert_eq!(server.request("GET", "/ping", &[], "").body, "success");
    let flags = server.request("GET", "/featureFlags", &[], "").json();
    for flag in [
        "sessionJwt",
        "sessionClaims",
        "v3AccessToken",
        "duplicateCookieHandling",
    ] {
        assert!(flags[flag].is_boolean(), "{flag}: {flags}");
    }
    assert_eq!(flags["v3AccessToken"], true);
    assert_eq!(flags["duplicateCookieHandling"], true);
    assert_eq!(
        server.request("GET", "/getPackageVersion", &[], "").body,
        "20.1.7"
    );
    let error = server.request("GET", "/testError?code=418", &[], "");
    assert_eq!(
        (error.status, error.body.as_str()),
        (418, "test error message")
    );
    assert_eq!(server.request("GET", "/testError", &[], "").status, 500);
    assert_eq!(
        server
            .request(
                "POST",
                "/multipleInterceptors",
                &[("interceptorheader1", "a"), ("interceptorheader2", "b")],
                ""
            )
            .body,
        "success"
    );
    assert_eq!(
        server
            .request(
                "POST",
                "/multipleInterceptors",
                &[("interceptorheader1", "a")],
                ""
            )
            .body,
        "failure"
    );
    assert_eq!(
        server
            .request(
                "POST",
                "/checkAllowCredentials",
                &[("allow-credentials", "1")],
                ""
            )
            .body,
        "true"
    );
    assert_eq!(
        server
            .request("POST", "/checkAllowCredentials", &[], "")
            .body,
        "false"
    );
    assert_eq!(
        server
            .request("GET", "/testHeader", &[("st-custom-header", "x")], "")
            .json(),
        serde_json::json!({ "success": true })
    );
    let echoed = server.request("PUT", "/testing/anything", &[("testing", "value")], "");
    assert_eq!(
        (echoed.status, echoed.header("testing")),
        (200, Some("value"))
    );
    assert_eq!(
        server.request("POST", "/403-without-body", &[], "").status,
        403
    );
    assert_eq!(server.request("GET", "/no-such-route", &[], "").status, 404);

    let page = server.request("GET", "/index.html", &[], "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("/node_modules/axios/dist/axios.min.js"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("https://"),
        "no CDN left: {}",
        page.body
    );
    assert_eq!(
        server
            .request("GET", "/node_modules/axios/dist/axios.min.js", &[], "")
            .body,
        "/* axios */"
    );
    let assert_js = server.request("GET", "/sdk-test-assert.js", &[], "");
    assert!(assert_js.body.contains("window.assert"));
    assert_eq!(
        server.request("GET", "/angular/main.js", &[], "").body,
        "/* angular */"
    );

    // A foreign host is turned away by the facade's guard, as on every SharedSession.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    assert_eq!(Reply::parse(&raw).status, 421);
}

#[test]
fn a_request_that_arrives_during_a_setup_is_served_by_the_new_app() {
    // The suite's `setupST` does not wait for its `/test/setup/st` requests, so a test's
    // login can arrive while the setup is still running; it must meet the new app, as in
    // the original, whose setup is synchronous.
    let sdk = FakeSdk::new();
    let server = TestServer::start(&sdk);
    let apps: Vec<String> = (0..2)
        .map(|_| {
            let url = server.post_json("/test/setup/app", r#"{"coreConfig":{}}"#);
            assert_eq!(url.status, 200, "{url:?}");
            url.body
        })
        .collect();
    let _keys: Vec<AppKeys> = apps.iter().map(|u| AppKeys(app_id(u))).collect();
    for round in 0..4 {
        let body = format!(r#"{{"coreUrl":"{}"}}"#, apps[round % 2]);
        // The setup's head arrives first; its body comes only after the login was sent, so
        // the login surely arrives while the setup runs.
        let mut setup = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        write!(
            setup,
            "POST /test/setup/st HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            server.port,
            body.len()
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let port = server.port;
        let login = std::thread::spawn(move || {
            let login = TestServer { child: None, port };
            login.request(
                "POST",
                "/login",
                &[
                    ("content-type", "application/json"),
                    ("st-auth-mode", "header"),
                ],
                r#"{"userId":"early"}"#,
            )
        });
        std::thread::sleep(Duration::from_millis(100));
        setup.write_all(body.as_bytes()).unwrap();
        let mut raw = Vec::new();
        setup.read_to_end(&mut raw).unwrap();
        assert_eq!(Reply::parse(&raw).status, 200, "round {round}: setup");
        let login = login.join().unwrap();
        assert_eq!(login.status, 200, "round {round}: {login:?}");
        let bearer = format!("Bearer {}", login.header("st-access-token").unwrap());
        let me = server.request("GET", "/", &[("authorization", &bearer)], "");
        assert_eq!(
            (me.status, me.body.as_str()),
            (200, "early"),
            "round {round}: the login was served by the previous app: {me:?}"
        );
    }
}

#[test]
fn two_processes_share_one_test_app_and_count_refreshes() {
    let sdk = FakeSdk::new();
    let main = TestServer::start(&sdk);
    let cross = TestServer::start(&sdk);

    let url = main.post_json(
        "/test/setup/app",
        r#"{"coreConfig":{"access_token_validity":2}}"#,
    );
    assert_eq!(url.status, 200, "{url:?}");
    let _keys = AppKeys(app_id(&url.body));
    let setup = format!(r#"{{"coreUrl":"{}","enableAntiCsrf":true}}"#, url.body);
    for server in [&main, &cross] {
        assert_eq!(server.post_json("/test/setup/st", &setup).status, 200);
        assert_eq!(server.post_json("/beforeeach", "").status, 200);
    }

    let login = main.request(
        "POST",
        "/login",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "header"),
        ],
        r#"{"userId":"suite-user"}"#,
    );
    assert_eq!(
        (login.status, login.body.as_str()),
        (200, "suite-user"),
        "{login:?}"
    );
    let access = login.header("st-access-token").unwrap().to_owned();
    let refresh = login.header("st-refresh-token").unwrap().to_owned();
    let bearer = format!("Bearer {access}");

    // The 8082 process verifies the session the 8080 process made (same app, same keys).
    let me = cross.request("GET", "/", &[("authorization", &bearer)], "");
    assert_eq!((me.status, me.body.as_str()), (200, "suite-user"), "{me:?}");
    assert_eq!(
        cross.request("GET", "/getSessionCalledTime", &[], "").body,
        "1"
    );
    assert_eq!(
        main.request("GET", "/getSessionCalledTime", &[], "").body,
        "0"
    );
    let payload = cross
        .request("GET", "/update-jwt", &[("authorization", &bearer)], "")
        .json();
    assert_eq!(payload["sub"], "suite-user", "{payload}");
    assert!(payload["exp"].as_u64().is_some(), "{payload}");
    assert_eq!(
        cross
            .request(
                "GET",
                "/check-rid",
                &[("authorization", &bearer), ("rid", "anti-csrf")],
                ""
            )
            .body,
        "success"
    );
    assert_eq!(cross.request("GET", "/", &[], "").status, 401);

    // /update-jwt replaces the application payload; the new token comes with the answer.
    let updated = cross.request(
        "POST",
        "/update-jwt",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        r#"{"key":"value"}"#,
    );
    assert_eq!(updated.status, 200, "{updated:?}");
    assert_eq!(updated.json()["key"], "value");
    let bearer = format!("Bearer {}", updated.header("st-access-token").unwrap());
    let replaced = main.request(
        "POST",
        "/update-jwt",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        r#"{"other":1}"#,
    );
    assert_eq!(replaced.status, 200, "{replaced:?}");
    let bearer = format!("Bearer {}", replaced.header("st-access-token").unwrap());
    let now = main
        .request("GET", "/update-jwt", &[("authorization", &bearer)], "")
        .json();
    assert_eq!(
        (now.get("key"), &now["other"]),
        (None, &serde_json::json!(1)),
        "{now}"
    );

    // The refresh route is counted: attempts always, successes only with `rid`.
    let refreshed = main.request(
        "POST",
        "/auth/session/refresh",
        &[
            ("authorization", &format!("Bearer {refresh}")),
            ("rid", "session"),
            ("st-auth-mode", "header"),
        ],
        "",
    );
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert_eq!(refreshed.body, "refresh success");
    assert!(refreshed.header("st-access-token").is_some());
    let failed = main.request(
        "POST",
        "/auth/session/refresh",
        &[("authorization", "Bearer not-a-token"), ("rid", "session")],
        "",
    );
    assert_eq!(failed.status, 401, "{failed:?}");
    assert_eq!(
        main.request("GET", "/refreshAttemptedTime", &[], "").body,
        "2"
    );
    assert_eq!(main.request("GET", "/refreshCalledTime", &[], "").body, "1");
    assert_eq!(main.post_json("/beforeeach", "").status, 200);
    assert_eq!(main.request("GET", "/refreshCalledTime", &[], "").body, "0");

    // The claim the suite's `/session-claims-error` always fails, with node's body.
    let new_access = refreshed.header("st-access-token").unwrap().to_owned();
    let new_bearer = format!("Bearer {new_access}");
    let claims = main.request(
        "POST",
        "/session-claims-error",
        &[("authorization", &new_bearer)],
        "",
    );
    assert_eq!(claims.status, 403, "{claims:?}");
    assert_eq!(
        claims.json(),
        serde_json::json!({
            "message": "invalid claim",
            "claimValidationErrors": [{"id": "test-claim-failing", "reason": {"message": "testReason"}}]
        })
    );

    // Two refresh cookies and no olderCookieDomain: the original's error handler answers
    // node's error with 500; the session is kept (nothing cleared, it still refreshes below
    // until revokeAll).
    let new_refresh = refreshed.header("st-refresh-token").unwrap().to_owned();
    let two = format!("sRefreshToken={new_refresh}; sRefreshToken={refresh}");
    let duplicate = main.request(
        "POST",
        "/auth/session/refresh",
        &[("cookie", &two), ("rid", "session")],
        "",
    );
    assert_eq!(duplicate.status, 500, "{duplicate:?}");
    assert!(
        duplicate
            .body
            .starts_with("The request contains multiple session cookies."),
        "{duplicate:?}"
    );
    assert!(duplicate.header("set-cookie").is_none(), "{duplicate:?}");

    // revokeAll on 8082 ends the session for 8080's refresh route too.
    assert_eq!(
        cross
            .request("POST", "/revokeAll", &[("authorization", &new_bearer)], "")
            .body,
        "success"
    );
    let after = main.request(
        "POST",
        "/auth/session/refresh",
        &[
            ("authorization", &format!("Bearer {new_refresh}")),
            ("rid", "session"),
        ],
        "",
    );
    assert_eq!(after.status, 401, "{after:?}");
}

#[test]
fn bad_command_lines_exit_2_naming_the_flag() {
    let run = |args: &[&str], port: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sdk-test-server"));
        cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
        if let Some(port) = port {
            cmd.env("NODE_PORT", port);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[], None);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: --sdk-dir"), "{err}");
    let (code, err) = run(&["--sdk-dir", "/nonexistent"], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("not a supertokens-website checkout"), "{err}");
    let sdk = FakeSdk::new();
    let dir = sdk.0.to_str().unwrap();
    let (code, err) = run(&["--sdk-dir", dir], Some("eighty"));
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: NODE_PORT"), "{err}");
    let (code, err) = run(&["--sdk-dir", dir, "--redis", "http://x"], None);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: --redis"), "{err}");
}
