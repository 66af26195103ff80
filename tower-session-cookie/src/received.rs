//! What a request carried: the tokens, read once by the layer, as ranges of the request's
//! own headers.

use std::fmt;

use http::HeaderValue;

use crate::{syntax::is_token_value, TransferMethod};

/// A token the request carried, and how it travelled.
///
/// The value is never copied out of the request: it is a range of the `Cookie` or
/// `Authorization` header it came in (whose bytes are reference-counted), checked once to
/// be a non-empty run of token characters (base64/base64url, `.`, `~`), so it is ASCII.
///
/// `Debug` shows the length, never the value.
///
/// ```
/// use tower_session_cookie::{ReceivedToken, TransferMethod};
/// let token = ReceivedToken::new("secret", TransferMethod::Cookie).expect("token characters");
/// assert_eq!(token.as_str(), "secret");
/// assert!(!format!("{token:?}").contains("secret"));
/// assert!(ReceivedToken::new("a;b", TransferMethod::Cookie).is_none());
/// ```
#[derive(Clone)]
pub struct ReceivedToken {
    /// The header the token was read from; the token is `header[start..end]`.
    header: HeaderValue,
    start: u32,
    end: u32,
    /// Cookie or `Authorization: Bearer`.
    pub method: TransferMethod,
}

impl ReceivedToken {
    /// A token with this value, or `None` unless `value` is a non-empty run of token
    /// characters (what the layer would have ignored). For tests and for services driven
    /// without the layer; the layer itself borrows the request's header instead of copying.
    pub fn new(value: &str, method: TransferMethod) -> Option<Self> {
        if !is_token_value(value.as_bytes()) {
            return None;
        }
        let header = HeaderValue::from_str(value).ok()?;
        Some(ReceivedToken {
            start: 0,
            end: u32::try_from(value.len()).ok()?,
            header,
            method,
        })
    }

    /// `value` (a sub-slice of `header.as_bytes()`, already checked with
    /// [`is_token_value`]) as a token; `None` if it is not inside `header`.
    pub(crate) fn in_header(
        header: &HeaderValue,
        value: &[u8],
        method: TransferMethod,
    ) -> Option<Self> {
        let whole = header.as_bytes();
        let start = value.as_ptr().addr().checked_sub(whole.as_ptr().addr())?;
        let end = start.checked_add(value.len())?;
        whole.get(start..end)?;
        Some(ReceivedToken {
            header: header.clone(),
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
            method,
        })
    }

    /// The token's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        self.header
            .as_bytes()
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        // Token characters are ASCII, checked when the token was read, so this never
        // falls back to "".
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The token's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Always `false`: empty values are not tokens (present for API completeness).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl PartialEq for ReceivedToken {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ReceivedToken {}

impl fmt::Debug for ReceivedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedToken")
            .field("value", &format_args!("<redacted, {} bytes>", self.len()))
            .field("method", &self.method)
            .finish()
    }
}

/// What the request carried; read once by the layer.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) access_token: Option<ReceivedToken>,
    /// The access cookie, when a bearer took the `access_token` slot (else `None`).
    pub(crate) shadowed_access_cookie: Option<ReceivedToken>,
    pub(crate) refresh_token: Option<ReceivedToken>,
    pub(crate) duplicate_access_cookie: bool,
    pub(crate) duplicate_refresh_cookie: bool,
    pub(crate) requested_method: Option<TransferMethod>,
    pub(crate) cookie_header_too_large: bool,
    pub(crate) duplicate_authorization: bool,
    /// A session cookie (either name) was sent, whatever its value.
    pub(crate) cookie_sent: bool,
    /// An `Authorization: Bearer …` line was sent, whatever its value.
    pub(crate) bearer_sent: bool,
    /// The legacy `sIdRefreshToken` cookie (supertokens-node before CDI 2.18) was sent.
    pub(crate) legacy_id_refresh_cookie: bool,
}
