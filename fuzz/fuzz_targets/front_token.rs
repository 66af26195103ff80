//! `FrontToken::new(uid, ate, payload).encode()` then decode the way the SDK does (`atob`
//! = standard padded base64, then `JSON.parse`). Properties: the header value is padded
//! standard base64 of a JSON object with exactly `uid`, `ate` and `up`, each equal to the
//! input (floats within one rounding step, as serde_json does not promise exact float
//! round trips without its `float_roundtrip` feature); `as_str() == encode()`.
#![no_main]

use base64::{engine::general_purpose::STANDARD, Engine as _};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower_session_cookie::FrontToken;

#[path = "common.rs"]
mod common;

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x == y {
                return true;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) => p == q || ((p - q).abs() <= p.abs().max(q.abs()) * 1e-15),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let f = common::fields(data, 3);
    let Ok(uid) = std::str::from_utf8(f[0]) else {
        return;
    };
    let mut ate_bytes = [0u8; 8];
    for (i, b) in f[1].iter().take(8).enumerate() {
        ate_bytes[i] = *b;
    }
    let ate = u64::from_le_bytes(ate_bytes);
    let payload: Value = match serde_json::from_slice(f[2]) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(f[2]).into_owned()),
    };

    if depth(&payload) > 100 {
        // serde_json's own decoder stops at 128 levels; the wrapper object adds one.
        return;
    }
    let front = FrontToken::new(uid, ate, &payload);
    let encoded = front.encode();
    assert_eq!(encoded, front.as_str());
    assert_eq!(encoded.len() % 4, 0, "not padded");
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
        "not standard base64"
    );
    assert!(
        http::HeaderValue::from_str(&encoded).is_ok(),
        "not a header value"
    );

    let bytes = STANDARD.decode(&encoded).expect("standard base64");
    let json: Value = serde_json::from_slice(&bytes).expect("JSON");
    let obj = json.as_object().expect("object");
    assert_eq!(obj.len(), 3, "exactly uid, ate, up");
    assert_eq!(obj.get("uid").and_then(Value::as_str), Some(uid), "uid");
    assert_eq!(obj.get("ate").and_then(Value::as_u64), Some(ate), "ate");
    let up = obj.get("up").expect("up");
    assert!(same(up, &payload), "payload round trip: {payload} -> {up}");
});
