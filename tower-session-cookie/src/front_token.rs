//! [`FrontToken`]: the `front-token` response header the SuperTokens frontend SDK reads.

use std::fmt;

use base64::{engine::general_purpose::STANDARD, Engine as _};

/// The `front-token` header value: standard, **padded** base64 of the JSON
/// `{"uid": <user id>, "ate": <access token expiry, ms since epoch>, "up": <JWT payload>}`
/// (protocol spec §4.3). The SDK decodes it with `atob`, so URL-safe base64 would break it.
///
/// ```
/// use base64::Engine as _;
/// use serde_json::json;
/// use tower_session_cookie::FrontToken;
///
/// let front = FrontToken::new("user-1", 1_700_000_000_000, &json!({"iat": 1_699_999_000}));
/// let decoded = base64::engine::general_purpose::STANDARD.decode(front.encode())?;
/// let json: serde_json::Value = serde_json::from_slice(&decoded)?;
/// assert_eq!(json, json!({"uid": "user-1", "ate": 1_700_000_000_000u64, "up": {"iat": 1_699_999_000}}));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FrontToken {
    encoded: String,
}

impl FrontToken {
    /// Builds the front token for a user, the access token's expiry (milliseconds since the
    /// Unix epoch) and the access token's entire payload (including `iat` in seconds, which
    /// the SDK uses for clock-skew correction).
    pub fn new(uid: &str, access_token_expiry_ms: u64, payload: &serde_json::Value) -> Self {
        let json = serde_json::json!({
            "uid": uid,
            "ate": access_token_expiry_ms,
            "up": payload,
        });
        // `Value`'s Display is its compact JSON form and cannot fail.
        FrontToken {
            encoded: STANDARD.encode(json.to_string()),
        }
    }

    /// The header value (padded standard base64).
    pub fn encode(&self) -> String {
        self.encoded.clone()
    }

    /// The header value, borrowed.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }
}

impl fmt::Debug for FrontToken {
    // The payload is user data; keep it out of logs like the tokens themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontToken")
            .field("encoded_len", &self.encoded.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_standard_base64() {
        // 'uid' chosen so the JSON length is not a multiple of 3 and needs padding,
        // and the payload includes bytes that base64url would encode differently.
        let front = FrontToken::new("u", 1, &serde_json::json!({"k": "??>?"}));
        let encoded = front.encode();
        assert!(encoded.ends_with('='), "{encoded}");
        let decoded = STANDARD.decode(&encoded).expect("standard base64");
        let json: serde_json::Value = serde_json::from_slice(&decoded).expect("json");
        assert_eq!(json["uid"], "u");
        assert_eq!(json["ate"], 1);
        assert_eq!(json["up"]["k"], "??>?");
        assert!(encoded.contains(['+', '/']), "{encoded}");
        assert!(!format!("{front:?}").contains(&encoded));
    }
}
