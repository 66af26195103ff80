//! A browser-ish HTTP client for the server tests: a cookie jar or header-mode tokens, and
//! the headers the SuperTokens SDK adds.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// A response, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or("").to_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
    /// Set-Cookie lines that clear a cookie (empty value, expired in 1970).
    pub fn clearing_cookies(&self) -> Vec<String> {
        self.set_cookies()
            .into_iter()
            .filter(|c| c.contains("=;") && c.contains("1970"))
            .collect()
    }
    pub fn front_token(&self) -> Option<&str> {
        self.header("front-token")
    }
    /// The decoded front-token JSON.
    pub fn front_token_json(&self) -> Option<serde_json::Value> {
        use base64::Engine as _;
        let raw = self.front_token()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A browser-ish client: a cookie jar (name -> value, domains ignored) or header-mode
/// tokens, and the headers the SDK adds.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: Client<HttpConnector, Full<Bytes>>,
    pub cookies: BTreeMap<String, String>,
    pub header_mode: bool,
    pub access: Option<String>,
    pub refresh: Option<String>,
    pub anti_csrf: Option<String>,
    /// Send the `rid` header (the SDK always does).
    pub rid: bool,
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

impl Browser {
    pub fn cookie_mode(addr: SocketAddr) -> Self {
        Self::new(addr, false)
    }
    pub fn header_mode(addr: SocketAddr) -> Self {
        Self::new(addr, true)
    }
    fn new(addr: SocketAddr, header_mode: bool) -> Self {
        Self {
            base: format!("http://{addr}"),
            client: client(),
            cookies: BTreeMap::new(),
            header_mode,
            access: None,
            refresh: None,
            anti_csrf: None,
            rid: true,
        }
    }

    pub fn at(&self, addr: SocketAddr) -> Self {
        let mut other = self.clone();
        other.base = format!("http://{addr}");
        other
    }

    /// Sends a request as the SDK would (rid, st-auth-mode, tokens), and takes the
    /// response's tokens.
    pub async fn send(&mut self, method: Method, path: &str) -> Reply {
        self.send_with(method, path, |b| b).await
    }

    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        f: impl FnOnce(http::request::Builder) -> http::request::Builder,
    ) -> Reply {
        let refresh_call = path.ends_with("/session/refresh");
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(
                "st-auth-mode",
                if self.header_mode { "header" } else { "cookie" },
            );
        if self.rid {
            builder = builder.header("rid", if refresh_call { "session" } else { "anti-csrf" });
        }
        if self.header_mode {
            let token = if refresh_call {
                &self.refresh
            } else {
                &self.access
            };
            if let Some(token) = token {
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
        }
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .filter(|(name, _)| refresh_call || name.as_str() != "sRefreshToken")
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            if !line.is_empty() {
                builder = builder.header("cookie", line);
            }
        }
        if let Some(anti_csrf) = &self.anti_csrf {
            builder = builder.header("anti-csrf", anti_csrf);
        }
        let request = f(builder).body(Full::new(Bytes::new())).expect("request");
        let reply = raw(&self.client, request).await;
        self.take(&reply);
        reply
    }

    pub fn take(&mut self, reply: &Reply) {
        for line in reply.set_cookies() {
            let first = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = first.split_once('=') {
                if value.is_empty() || line.contains("1970") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        for (name, slot) in [
            ("st-access-token", &mut self.access),
            ("st-refresh-token", &mut self.refresh),
        ] {
            if let Some(value) = reply.header(name) {
                *slot = (!value.is_empty()).then(|| value.to_owned());
            }
        }
        if reply.front_token() == Some("remove") {
            self.access = None;
            self.refresh = None;
            self.anti_csrf = None;
        }
        if let Some(value) = reply.header("anti-csrf") {
            self.anti_csrf = Some(value.to_owned());
        }
    }

    pub fn access_token(&self) -> Option<String> {
        if self.header_mode {
            self.access.clone()
        } else {
            self.cookies.get("sAccessToken").cloned()
        }
    }

    pub fn refresh_token(&self) -> Option<String> {
        if self.header_mode {
            self.refresh.clone()
        } else {
            self.cookies.get("sRefreshToken").cloned()
        }
    }

    pub fn set_access_token(&mut self, token: &str) {
        if self.header_mode {
            self.access = Some(token.to_owned());
        } else {
            self.cookies
                .insert("sAccessToken".to_owned(), token.to_owned());
        }
    }

    pub fn set_refresh_token(&mut self, token: &str) {
        if self.header_mode {
            self.refresh = Some(token.to_owned());
        } else {
            self.cookies
                .insert("sRefreshToken".to_owned(), token.to_owned());
        }
    }

    pub async fn login(&mut self) -> Reply {
        let reply = self.send(Method::POST, "/login").await;
        assert_eq!(reply.status, StatusCode::OK, "login: {reply:?}");
        reply
    }

    pub async fn refresh(&mut self) -> Reply {
        self.send(Method::POST, "/auth/session/refresh").await
    }

    pub async fn me(&mut self) -> Reply {
        self.send(Method::GET, "/me").await
    }
}

pub async fn raw(
    client: &Client<HttpConnector, Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    let response = client.request(request).await.expect("request");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
