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

/// Why [`FrontToken::decode`] refused a `front-token` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrontTokenError {
    /// Not standard base64 (padded or not); `remove` (the sign-out value) lands here too.
    Base64,
    /// Not a JSON object.
    Json,
    /// No `uid`.
    MissingUid,
    /// No numeric `ate`.
    MissingExpiry,
}

impl fmt::Display for FrontTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Base64 => "front-token is not standard base64",
            Self::Json => "front-token is not a JSON object",
            Self::MissingUid => "front-token has no uid",
            Self::MissingExpiry => "front-token has no numeric ate",
        })
    }
}

impl std::error::Error for FrontTokenError {}

/// A decoded `front-token` ([`FrontToken::decode`]): what the frontend SDK reads from it.
#[derive(Clone, PartialEq)]
pub struct DecodedFrontToken {
    uid: String,
    ate_ms: u64,
    payload: serde_json::Value,
}

impl DecodedFrontToken {
    /// The user id (`uid`; a non-string value is given in its JSON form).
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The access token's expiry (`ate`), milliseconds since the Unix epoch, server clock.
    pub fn access_token_expiry_ms(&self) -> u64 {
        self.ate_ms
    }

    /// The access token's payload (`up`; `null` when absent).
    pub fn payload(&self) -> &serde_json::Value {
        &self.payload
    }

    /// The payload, owned.
    pub fn into_payload(self) -> serde_json::Value {
        self.payload
    }
}

impl fmt::Debug for DecodedFrontToken {
    // The payload is user data; keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedFrontToken")
            .field("ate_ms", &self.ate_ms)
            .finish_non_exhaustive()
    }
}

impl FrontToken {
    /// Decodes a `front-token` header value the way the SDK does (`atob` then
    /// `JSON.parse`): standard base64, padded or not, of `{uid, ate, up}`. The inverse of
    /// [`FrontToken::new`]; the one decoder of the workspace (the client layer uses it).
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_session_cookie::{FrontToken, FrontTokenError};
    ///
    /// let front = FrontToken::new("user-1", 1_700_000_000_000, &json!({"iat": 1}));
    /// let decoded = FrontToken::decode(front.as_str())?;
    /// assert_eq!(decoded.uid(), "user-1");
    /// assert_eq!(decoded.access_token_expiry_ms(), 1_700_000_000_000);
    /// assert_eq!(decoded.payload()["iat"], 1);
    /// assert_eq!(FrontToken::decode("remove").unwrap_err(), FrontTokenError::Base64);
    /// # Ok::<(), FrontTokenError>(())
    /// ```
    pub fn decode(raw: &str) -> Result<DecodedFrontToken, FrontTokenError> {
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        let raw = raw.trim();
        let bytes = STANDARD
            .decode(raw)
            .or_else(|_| STANDARD_NO_PAD.decode(raw))
            .map_err(|_| FrontTokenError::Base64)?;
        let serde_json::Value::Object(mut v) =
            serde_json::from_slice(&bytes).map_err(|_| FrontTokenError::Json)?
        else {
            return Err(FrontTokenError::Json);
        };
        let uid = match v.remove("uid").ok_or(FrontTokenError::MissingUid)? {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let ate_ms = v
            .get("ate")
            .and_then(|a| a.as_u64().or_else(|| a.as_f64().map(|f| f as u64)))
            .ok_or(FrontTokenError::MissingExpiry)?;
        let payload = v.remove("up").unwrap_or(serde_json::Value::Null);
        Ok(DecodedFrontToken {
            uid,
            ate_ms,
            payload,
        })
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
        let back = FrontToken::decode(&encoded).expect("decodes");
        assert_eq!((back.uid(), back.access_token_expiry_ms()), ("u", 1));
        assert_eq!(back.payload()["k"], "??>?");
    }

    #[test]
    fn decode_refusals_and_tolerance() {
        let enc = |s: &str| STANDARD.encode(s);
        assert_eq!(FrontToken::decode("remove"), Err(FrontTokenError::Base64));
        assert_eq!(FrontToken::decode(&enc("[1]")), Err(FrontTokenError::Json));
        assert_eq!(
            FrontToken::decode(&enc("{\"ate\":1}")),
            Err(FrontTokenError::MissingUid)
        );
        assert_eq!(
            FrontToken::decode(&enc("{\"uid\":\"a\",\"ate\":\"x\"}")),
            Err(FrontTokenError::MissingExpiry)
        );
        // Unpadded, a numeric uid, a float expiry and no `up` are read as the SDK reads them.
        let raw =
            base64::engine::general_purpose::STANDARD_NO_PAD.encode("{\"uid\":7,\"ate\":2.0}");
        let d = FrontToken::decode(&raw).expect("tolerated");
        assert_eq!((d.uid(), d.access_token_expiry_ms()), ("7", 2));
        assert!(d.payload().is_null());
    }
}
