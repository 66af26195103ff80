//! The access-token claims and their (hand-written, allocation-light) JSON mapping.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TokenError;

/// Claim names an application payload may not use (SuperTokens' list plus `iss`).
pub const PROTECTED_CLAIMS: &[&str] = &[
    "sub",
    "iat",
    "exp",
    "sessionHandle",
    "parentRefreshTokenHash1",
    "refreshTokenHash1",
    "antiCsrfToken",
    "rsub",
    "tId",
    "stt",
    "iss",
];

/// The claims of a SuperTokens v5 access token.
///
/// The application's payload is merged at the top level of the JWT payload; its keys may not
/// be any of [`PROTECTED_CLAIMS`].
///
/// ```
/// use tower_session_refresh::token::AccessTokenClaims;
/// let mut claims = AccessTokenClaims::new("user-1", "handle-1", "ab12", 1_700_000_000, 3600);
/// claims.payload.insert("role".into(), "admin".into());
/// let json = claims.to_json();
/// assert_eq!(json["sub"], "user-1");
/// assert_eq!(json["exp"], 1_700_003_600);
/// assert_eq!(json["role"], "admin");
/// assert!(json["parentRefreshTokenHash1"].is_null());
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct AccessTokenClaims {
    /// `sub`: the (primary) user id.
    pub sub: String,
    /// `exp`: expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// `iat`: issue time, seconds since the Unix epoch.
    pub iat: u64,
    /// `sessionHandle`.
    pub session_handle: String,
    /// `refreshTokenHash1`: lowercase hex SHA-256 of the current refresh token
    /// (see [`refresh_token_hash`](crate::token::refresh_token_hash)).
    pub refresh_token_hash1: String,
    /// `parentRefreshTokenHash1`: set when the refresh token was just rotated and not yet
    /// promoted; `null` otherwise.
    pub parent_refresh_token_hash1: Option<String>,
    /// `antiCsrfToken`: set only in the `VIA_TOKEN` anti-CSRF mode.
    pub anti_csrf_token: Option<String>,
    /// `tId`: tenant id (`"public"` by default).
    pub t_id: String,
    /// `rsub`: recipe user id (usually equal to `sub`).
    pub rsub: String,
    /// `iss`: issuer (`apiDomain + apiBasePath`), optional and never checked.
    pub iss: Option<String>,
    /// The application's payload, merged at the top level.
    pub payload: Map<String, Value>,
}

impl fmt::Debug for AccessTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenClaims")
            .field("sub", &self.sub)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("session_handle", &self.session_handle)
            .field("t_id", &self.t_id)
            .field("rsub", &self.rsub)
            .field("iss", &self.iss)
            .field(
                "parent_refresh_token_hash1",
                &self.parent_refresh_token_hash1.as_ref().map(|_| ".."),
            )
            .field(
                "anti_csrf_token",
                &self.anti_csrf_token.as_ref().map(|_| ".."),
            )
            .field("payload_keys", &self.payload.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl AccessTokenClaims {
    /// Claims for a new session: `tId` `"public"`, `rsub` = `sub`, no parent hash, no
    /// anti-CSRF token, no issuer, empty payload; `exp = iat + lifetime_secs`.
    pub fn new(
        sub: impl Into<String>,
        session_handle: impl Into<String>,
        refresh_token_hash1: impl Into<String>,
        iat: u64,
        lifetime_secs: u64,
    ) -> Self {
        let sub = sub.into();
        Self {
            rsub: sub.clone(),
            sub,
            exp: iat.saturating_add(lifetime_secs),
            iat,
            session_handle: session_handle.into(),
            refresh_token_hash1: refresh_token_hash1.into(),
            parent_refresh_token_hash1: None,
            anti_csrf_token: None,
            t_id: "public".to_owned(),
            iss: None,
            payload: Map::new(),
        }
    }

    /// Checks that a payload uses no protected claim name.
    ///
    /// ```
    /// use tower_session_refresh::token::{AccessTokenClaims, TokenError};
    /// let mut payload = serde_json::Map::new();
    /// payload.insert("sub".into(), "someone-else".into());
    /// assert!(matches!(
    ///     AccessTokenClaims::check_payload(&payload),
    ///     Err(TokenError::ProtectedClaim(name)) if name == "sub"
    /// ));
    /// ```
    pub fn check_payload(payload: &Map<String, Value>) -> Result<(), TokenError> {
        match payload
            .keys()
            .find(|k| PROTECTED_CLAIMS.contains(&k.as_str()))
        {
            Some(k) => Err(TokenError::ProtectedClaim(k.clone())),
            None => Ok(()),
        }
    }

    /// The whole JWT payload as a JSON object (what the `front-token`'s `up` carries).
    /// (`Null` if the payload holds a protected claim name, which [`KeySet::sign`](crate::keys::KeySet::sign) refuses.)
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// `exp` as a `SystemTime`.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }

    /// `exp` in milliseconds since the epoch (the front-token's `ate`).
    pub fn expires_at_ms(&self) -> u64 {
        self.exp.saturating_mul(1000)
    }

    /// Whether the refresh token in this access token was rotated but not yet promoted
    /// (`parentRefreshTokenHash1` non-null): the server must promote it in the store.
    pub fn needs_promotion(&self) -> bool {
        self.parent_refresh_token_hash1.is_some()
    }
}

impl Serialize for AccessTokenClaims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(10 + self.payload.len()))?;
        map.serialize_entry("sub", &self.sub)?;
        map.serialize_entry("exp", &self.exp)?;
        map.serialize_entry("iat", &self.iat)?;
        map.serialize_entry("tId", &self.t_id)?;
        map.serialize_entry("rsub", &self.rsub)?;
        map.serialize_entry("sessionHandle", &self.session_handle)?;
        map.serialize_entry("refreshTokenHash1", &self.refresh_token_hash1)?;
        map.serialize_entry("parentRefreshTokenHash1", &self.parent_refresh_token_hash1)?;
        map.serialize_entry("antiCsrfToken", &self.anti_csrf_token)?;
        if let Some(iss) = &self.iss {
            map.serialize_entry("iss", iss)?;
        }
        for (k, v) in &self.payload {
            if PROTECTED_CLAIMS.contains(&k.as_str()) {
                return Err(serde::ser::Error::custom(format_args!(
                    "protected claim {k:?} in payload"
                )));
            }
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

enum Field {
    Sub,
    Exp,
    Iat,
    SessionHandle,
    RefreshTokenHash1,
    ParentRefreshTokenHash1,
    AntiCsrfToken,
    TId,
    Rsub,
    Iss,
    Stt,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "sub" => Field::Sub,
                    "exp" => Field::Exp,
                    "iat" => Field::Iat,
                    "sessionHandle" => Field::SessionHandle,
                    "refreshTokenHash1" => Field::RefreshTokenHash1,
                    "parentRefreshTokenHash1" => Field::ParentRefreshTokenHash1,
                    "antiCsrfToken" => Field::AntiCsrfToken,
                    "tId" => Field::TId,
                    "rsub" => Field::Rsub,
                    "iss" => Field::Iss,
                    "stt" => Field::Stt,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A JSON number of seconds: non-negative integer, or a float that is floored.
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                u64::try_from(v)
                    .map(NumericDate)
                    .map_err(|_| E::custom("negative time"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if (0.0..1.8e19).contains(&v) {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(NumericDate(v.floor() as u64))
                } else {
                    Err(E::custom("time out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `stt`: absent or 0 (other values are OAuth2-provider tokens, not sessions).
struct Stt;

impl<'de> Deserialize<'de> for Stt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Stt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("stt 0")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Stt, E> {
                if v == 0 {
                    Ok(Stt)
                } else {
                    Err(E::custom("stt is not 0 (not a session access token)"))
                }
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Stt, E> {
                Err(E::custom("stt is not 0 (not a session access token)"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Stt, E> {
                if v == 0.0 {
                    Ok(Stt)
                } else {
                    Err(E::custom("stt is not 0 (not a session access token)"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn set<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::custom(format_args!("duplicate claim {name}")));
    }
    Ok(())
}

fn need<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::custom(format_args!("missing claim {name}")))
}

impl<'de> Deserialize<'de> for AccessTokenClaims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AccessTokenClaims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of access-token claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<AccessTokenClaims, A::Error> {
                let mut sub = None;
                let mut exp = None;
                let mut iat = None;
                let mut sh = None;
                let mut rth = None;
                let mut prth: Option<Option<String>> = None;
                let mut acsrf: Option<Option<String>> = None;
                let mut tid = None;
                let mut rsub = None;
                let mut iss: Option<Option<String>> = None;
                let mut stt = None;
                let mut payload = Map::new();
                while let Some(field) = m.next_key::<Field>()? {
                    match field {
                        Field::Sub => set(&mut sub, m.next_value::<String>()?, "sub")?,
                        Field::Exp => set(&mut exp, m.next_value::<NumericDate>()?.0, "exp")?,
                        Field::Iat => set(&mut iat, m.next_value::<NumericDate>()?.0, "iat")?,
                        Field::SessionHandle => {
                            set(&mut sh, m.next_value::<String>()?, "sessionHandle")?
                        }
                        Field::RefreshTokenHash1 => {
                            set(&mut rth, m.next_value::<String>()?, "refreshTokenHash1")?
                        }
                        Field::ParentRefreshTokenHash1 => set(
                            &mut prth,
                            m.next_value::<Option<String>>()?,
                            "parentRefreshTokenHash1",
                        )?,
                        Field::AntiCsrfToken => set(
                            &mut acsrf,
                            m.next_value::<Option<String>>()?,
                            "antiCsrfToken",
                        )?,
                        Field::TId => set(&mut tid, m.next_value::<String>()?, "tId")?,
                        Field::Rsub => set(&mut rsub, m.next_value::<String>()?, "rsub")?,
                        Field::Iss => set(&mut iss, m.next_value::<Option<String>>()?, "iss")?,
                        Field::Stt => set(&mut stt, m.next_value::<Stt>()?, "stt")?,
                        Field::Other(name) => {
                            let value = m.next_value::<Value>()?;
                            if payload.contains_key(&name) {
                                return Err(de::Error::custom("duplicate payload claim"));
                            }
                            payload.insert(name, value);
                        }
                    }
                }
                Ok(AccessTokenClaims {
                    sub: need(sub, "sub")?,
                    exp: need(exp, "exp")?,
                    iat: need(iat, "iat")?,
                    session_handle: need(sh, "sessionHandle")?,
                    refresh_token_hash1: need(rth, "refreshTokenHash1")?,
                    parent_refresh_token_hash1: need(prth, "parentRefreshTokenHash1")?,
                    anti_csrf_token: need(acsrf, "antiCsrfToken")?,
                    t_id: need(tid, "tId")?,
                    rsub: need(rsub, "rsub")?,
                    iss: iss.flatten(),
                    payload,
                })
            }
        }
        d.deserialize_map(V)
    }
}
