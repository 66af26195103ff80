//! A small server speaking the SuperTokens session protocol on 127.0.0.1, for the client
//! tests: sign-in, refresh (rotation), sign-out, `/sessioninfo`, `/upload`, a gRPC health
//! service behind a session check, and hosts outside the shared domain on the same
//! listener. Every request is logged.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower_layer::Layer;
use tower_session_refresh::client::connect::{http_client, Connector, HttpClient};
use tower_session_refresh::client::{
    ClientConfig, SessionClient, SessionClientLayer, SharedDomain, TransferMethod,
};

#[derive(Clone, Debug)]
pub struct Seen {
    pub host: String,
    pub path: String,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn carries_session(&self) -> bool {
        let h = &self.headers;
        h.contains_key("authorization")
            || h.contains_key("cookie")
            || h.contains_key("anti-csrf")
            || h.contains_key("st-auth-mode")
            || h.contains_key("rid")
    }
}

struct Sess {
    user: String,
    refresh: String,
    revoked: bool,
}

#[derive(Default)]
pub struct St {
    pub refreshes: AtomicUsize,
    pub uploads: AtomicUsize,
    pub refresh_status: Mutex<Option<StatusCode>>,
    /// Access-token lifetime, ms.
    pub ttl_ms: AtomicU64,
    /// If set, the `front-token` claims this much longer than the real lifetime (ms), so
    /// the client does not know the token expired and only learns it from a 401.
    pub lie_ms: AtomicU64,
    sessions: Mutex<HashMap<String, Sess>>,
    access: Mutex<HashMap<String, (String, u64)>>,
    counter: AtomicU64,
    pub log: Mutex<Vec<Seen>>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

impl St {
    fn token(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{n}x{}", now_ms())
    }

    pub fn revoke_all(&self) {
        for s in self.sessions.lock().unwrap().values_mut() {
            s.revoked = true;
        }
        self.access.lock().unwrap().clear();
    }

    /// Expire every access token now (the client is not told).
    pub fn expire_access_tokens(&self) {
        for v in self.access.lock().unwrap().values_mut() {
            v.1 = 0;
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// Issues tokens for `sid` in `mode` onto `resp`.
    fn issue(&self, sid: &str, user: &str, cookie: bool, headers: &mut HeaderMap) {
        let refresh = self.token("rt");
        self.sessions.lock().unwrap().insert(
            sid.to_owned(),
            Sess {
                user: user.to_owned(),
                refresh: refresh.clone(),
                revoked: false,
            },
        );
        let exp = now_ms() + self.ttl_ms.load(Ordering::Relaxed);
        let at = self.token("at");
        self.access
            .lock()
            .unwrap()
            .insert(at.clone(), (sid.to_owned(), exp));
        let ate = exp + self.lie_ms.load(Ordering::Relaxed);
        let front = serde_json::json!({"uid": user, "ate": ate, "up": {"sub": user, "iat": now_ms() / 1000}});
        let front = base64::engine::general_purpose::STANDARD.encode(front.to_string());
        headers.insert("front-token", front.parse().unwrap());
        if cookie {
            headers.append(
                "set-cookie",
                format!("sAccessToken={at}; Domain=example.test; Path=/; HttpOnly; Max-Age=31536000; SameSite=Lax").parse().unwrap(),
            );
            headers.append(
                "set-cookie",
                format!("sRefreshToken={refresh}; Domain=example.test; Path=/auth/session/refresh; HttpOnly; Max-Age=8640000; SameSite=Lax").parse().unwrap(),
            );
        } else {
            headers.insert("st-access-token", at.parse().unwrap());
            headers.insert("st-refresh-token", refresh.parse().unwrap());
        }
    }

    fn clear(headers: &mut HeaderMap) {
        headers.insert("front-token", HeaderValue::from_static("remove"));
        headers.append("set-cookie", HeaderValue::from_static("sAccessToken=; Domain=example.test; Path=/; HttpOnly; Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
        headers.append("set-cookie", HeaderValue::from_static("sRefreshToken=; Domain=example.test; Path=/auth/session/refresh; HttpOnly; Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
        headers.insert("st-access-token", HeaderValue::from_static(""));
        headers.insert("st-refresh-token", HeaderValue::from_static(""));
    }

    /// (token, from a cookie?) : Authorization: Bearer wins over the cookie.
    fn read_token(headers: &HeaderMap, cookie_name: &str) -> Option<(String, bool)> {
        if let Some(b) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return Some((b.to_owned(), false));
        }
        let cookies = headers.get("cookie")?.to_str().ok()?;
        cookies.split(';').find_map(|c| {
            let (n, v) = c.trim().split_once('=')?;
            (n == cookie_name && !v.is_empty()).then(|| (v.to_owned(), true))
        })
    }

    /// The session's user if the access token is valid now.
    fn verify(&self, headers: &HeaderMap) -> Result<(String, String), &'static str> {
        let (at, _) = Self::read_token(headers, "sAccessToken").ok_or("unauthorised")?;
        let (sid, exp) = self
            .access
            .lock()
            .unwrap()
            .get(&at)
            .cloned()
            .ok_or("try refresh token")?;
        if exp <= now_ms() {
            return Err("try refresh token");
        }
        let sessions = self.sessions.lock().unwrap();
        let s = sessions.get(&sid).ok_or("unauthorised")?;
        if s.revoked {
            return Err("unauthorised");
        }
        Ok((s.user.clone(), sid))
    }
}

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

async fn handle(State((st, health)): State<(Arc<St>, HealthSvc)>, req: Request) -> Response {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let path = req.uri().path().to_owned();
    st.log.lock().unwrap().push(Seen {
        host: host.clone(),
        path: path.clone(),
        headers: req.headers().clone(),
    });
    if !(host == "example.test" || host.ends_with(".example.test")) {
        return json(StatusCode::OK, serde_json::json!({"outside": host}));
    }
    let method = req.method().clone();
    match (method.as_str(), path.as_str()) {
        ("POST", "/auth/demo/signin") => {
            let cookie = req.headers().get("st-auth-mode").map(|v| v.as_bytes()) == Some(b"cookie");
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let user = v["userId"].as_str().unwrap_or("nobody").to_owned();
            let sid = st.token("s");
            let mut resp = json(StatusCode::OK, serde_json::json!({"status": "OK"}));
            st.issue(&sid, &user, cookie, resp.headers_mut());
            resp
        }
        ("POST", "/auth/session/refresh") => {
            st.refreshes.fetch_add(1, Ordering::SeqCst);
            if let Some(s) = *st.refresh_status.lock().unwrap() {
                return json(s, serde_json::json!({"message": "unavailable"}));
            }
            let unauthorised = || {
                let mut r = json(
                    StatusCode::UNAUTHORIZED,
                    serde_json::json!({"message": "unauthorised"}),
                );
                St::clear(r.headers_mut());
                r
            };
            let Some((rt, from_cookie)) = St::read_token(req.headers(), "sRefreshToken") else {
                return unauthorised();
            };
            if from_cookie && !req.headers().contains_key("rid") {
                return unauthorised();
            }
            let found = {
                let sessions = st.sessions.lock().unwrap();
                sessions
                    .iter()
                    .find(|(_, s)| s.refresh == rt && !s.revoked)
                    .map(|(sid, s)| (sid.clone(), s.user.clone()))
            };
            let Some((sid, user)) = found else {
                return unauthorised();
            };
            let mut resp = json(StatusCode::OK, serde_json::json!({}));
            st.issue(&sid, &user, from_cookie, resp.headers_mut());
            resp
        }
        ("POST", "/auth/signout") => match st.verify(req.headers()) {
            Ok((_, sid)) => {
                if let Some(s) = st.sessions.lock().unwrap().get_mut(&sid) {
                    s.revoked = true;
                }
                let mut r = json(StatusCode::OK, serde_json::json!({"status": "OK"}));
                St::clear(r.headers_mut());
                r
            }
            Err(m) => json(StatusCode::UNAUTHORIZED, serde_json::json!({"message": m})),
        },
        (_, "/sessioninfo") => match st.verify(req.headers()) {
            Ok((user, sid)) => json(
                StatusCode::OK,
                serde_json::json!({"userId": user, "sessionHandle": sid, "servedBy": host}),
            ),
            Err(m) => json(StatusCode::UNAUTHORIZED, serde_json::json!({"message": m})),
        },
        ("POST", "/upload") => {
            st.uploads.fetch_add(1, Ordering::SeqCst);
            let verified = st.verify(req.headers());
            let n = match req.into_body().collect().await {
                Ok(b) => b.to_bytes().len(),
                Err(_) => 0,
            };
            match verified {
                Ok(_) => json(StatusCode::OK, serde_json::json!({"bytes": n})),
                Err(m) => json(StatusCode::UNAUTHORIZED, serde_json::json!({"message": m})),
            }
        }
        (_, p) if p.starts_with("/grpc.health.v1.Health/") => match st.verify(req.headers()) {
            Ok(_) => health.oneshot(req).await.unwrap(),
            Err(m) => Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/grpc")
                .header("grpc-status", "16")
                .header("grpc-message", m.replace(' ', "%20"))
                .body(Body::empty())
                .unwrap(),
        },
        ("GET", "/redirect-out") => Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header("location", "http://evil.test/landing")
            .body(Body::empty())
            .unwrap(),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"message": "not found"}),
        ),
    }
}

type HealthSvc = tower::util::BoxCloneSyncService<Request, Response, std::convert::Infallible>;

pub struct Server {
    pub addr: SocketAddr,
    pub st: Arc<St>,
}

impl Server {
    pub async fn start(ttl_ms: u64) -> Self {
        let st = Arc::new(St::default());
        st.ttl_ms.store(ttl_ms, Ordering::Relaxed);
        let (_reporter, health) = tonic_health::server::health_reporter();
        let health: HealthSvc = tower::util::BoxCloneSyncService::new(
            ServiceExt::<Request>::map_response(health, |r: http::Response<tonic::body::Body>| {
                r.map(Body::new)
            }),
        );
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((st.clone(), health));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, st }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn config(&self, mode: TransferMethod) -> ClientConfig {
        ClientConfig::builder(&self.url("api.example.test", ""))
            .shared_domain(SharedDomain::parse(".example.test").unwrap())
            .transfer_method(mode)
            .build()
            .unwrap()
    }

    /// A hyper client through the session layer, every connection going to this server.
    pub fn client<B>(&self, layer: &SessionClientLayer) -> SessionClient<HttpClient<B>>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
    {
        layer.layer(http_client::<B>(Connector::fixed(self.addr)))
    }
}

pub fn get(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url).body(Full::default()).unwrap()
}
