//! The demo's claims routes over real HTTP (contract, "Session recipe"): every session
//! carries `st-ev` false at creation, `POST {base}/demo/claims` sets it with a new access
//! token and `front-token` in the same response, and `GET /verified` answers node's
//! invalid-claim body until it is true, on api, api2 and api3.

mod common;

use common::{Demo, Reply};
use serde_json::{json, Value};

/// Standard base64 (the front-token's alphabet), padded or not.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn front_payload(reply: &Reply) -> Value {
    let raw = reply.header("front-token").expect("front-token");
    let json: Value = serde_json::from_slice(&base64_decode(raw)).expect("front-token JSON");
    json["up"].clone()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn set_verified(demo: &Demo, access: &str, verified: bool) -> Reply {
    demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/claims",
        &[
            ("authorization", &format!("Bearer {access}")),
            ("st-auth-mode", "header"),
            ("content-type", "application/json"),
        ],
        &format!(r#"{{"verified":{verified}}}"#),
    )
}

fn get(demo: &Demo, host: &str, path: &str, access: &str) -> Reply {
    demo.request(
        "GET",
        host,
        path,
        &[("authorization", &format!("Bearer {access}"))],
        "",
    )
}

const HOSTS: [&str; 3] = ["api.example.test", "api2.example.test", "api3.example.test"];

#[test]
fn st_ev_is_false_at_creation_and_verified_answers_nodes_invalid_claim_body() {
    let demo = Demo::start(&[]);
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/signin",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "header"),
        ],
        r#"{"userId":"alice"}"#,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let up = front_payload(&reply);
    assert_eq!(up["st-ev"]["v"], false, "{up}");
    let t = up["st-ev"]["t"].as_u64().expect("t in ms");
    assert!(now_ms() - t < 60_000);
    let access = reply.header("st-access-token").expect("access").to_owned();

    for host in HOSTS {
        let info = get(&demo, host, "/sessioninfo", &access);
        assert_eq!(info.status, 200, "{host}");
        let reply = get(&demo, host, "/verified", &access);
        assert_eq!(reply.status, 403, "{host}: {reply:?}");
        let body: Value = serde_json::from_str(&reply.body).expect("json");
        assert_eq!(
            body,
            json!({"message":"invalid claim","claimValidationErrors":[
                {"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}
            ]}),
            "{host}"
        );
    }
}

#[test]
fn demo_claims_sets_st_ev_with_a_new_token_and_verified_then_answers_200() {
    let demo = Demo::start(&[]);
    let (access, _) = demo.sign_in("bob");
    let reply = set_verified(&demo, &access, true);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&reply.body).expect("json"),
        json!({"status":"OK"})
    );
    let up = front_payload(&reply);
    assert_eq!(up["st-ev"]["v"], true);
    assert_eq!(up["sub"], "bob");
    let new_access = reply
        .header("st-access-token")
        .expect("new access")
        .to_owned();
    assert_ne!(new_access, access);
    assert!(
        reply.header("set-cookie").is_none(),
        "header mode: no cookie"
    );

    for host in HOSTS {
        let reply = get(&demo, host, "/verified", &new_access);
        assert_eq!(reply.status, 200, "{host}: {reply:?}");
        let info: Value = serde_json::from_str(&reply.body).expect("json");
        assert_eq!(info["userId"], "bob");
        assert_eq!(info["accessTokenPayload"]["st-ev"]["v"], true);
        assert_eq!(info["servedBy"], host);
        // The old token still says false.
        assert_eq!(get(&demo, host, "/verified", &access).status, 403, "{host}");
    }

    // And back to false; no session: 401.
    let reply = set_verified(&demo, &new_access, false);
    assert_eq!(reply.status, 200);
    assert_eq!(front_payload(&reply)["st-ev"]["v"], false);
    let newest = reply.header("st-access-token").expect("access").to_owned();
    assert_eq!(
        get(&demo, "api2.example.test", "/verified", &newest).status,
        403
    );
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/claims",
        &[("content-type", "application/json")],
        r#"{"verified":true}"#,
    );
    assert_eq!(reply.status, 401, "{reply:?}");
}

#[test]
fn demo_claims_in_cookie_mode_sets_a_new_access_cookie() {
    let demo = Demo::start(&[]);
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/signin",
        &[
            ("content-type", "application/json"),
            ("st-auth-mode", "cookie"),
        ],
        r#"{"userId":"carol"}"#,
    );
    assert_eq!(reply.status, 200);
    let cookie = reply
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("sAccessToken="))
        .and_then(|c| c.split(';').next())
        .expect("access cookie")
        .to_owned();
    let reply = demo.request(
        "POST",
        "api.example.test",
        "/auth/demo/claims",
        &[
            ("cookie", &cookie),
            ("content-type", "application/json"),
            ("origin", "http://www.example.test"),
            ("rid", "anti-csrf"),
        ],
        r#"{"verified":true}"#,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(front_payload(&reply)["st-ev"]["v"], true);
    let new_cookie = reply
        .headers("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("sAccessToken="))
        .and_then(|c| c.split(';').next())
        .expect("a new access cookie")
        .to_owned();
    assert_ne!(new_cookie, cookie);
    assert!(reply.header("st-access-token").is_none());
    let reply = demo.request(
        "GET",
        "api3.example.test",
        "/verified",
        &[("cookie", &new_cookie)],
        "",
    );
    assert_eq!(reply.status, 200, "{reply:?}");
}
