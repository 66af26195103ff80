//! `JwksService` over real HTTP on 127.0.0.1, and in-process.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tower::ServiceExt as _;
use tower_session_refresh::jwks::{JwksConfigError, JwksService};
use tower_session_refresh::keys::{KeySet, SigningKey};

const RSA_PKCS8: &str = include_str!("fixtures/rs256-test-only-private.pem");

async fn serve(svc: JwksService) -> SocketAddr {
    tower_session_testkit::serve::serve(axum::Router::new().fallback_service(svc)).await
}

async fn request(addr: SocketAddr, method: Method, path: &str) -> (http::response::Parts, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Empty::new())
        .unwrap();
    let res = client.request(req).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts, body.collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn serves_public_keys_over_http() {
    let keys = KeySet::new(SigningKey::generate_ed25519("ed-1").unwrap())
        .with_verification_key(
            SigningKey::rs256_from_pkcs8_pem("rsa-1", RSA_PKCS8)
                .unwrap()
                .verifying_key()
                .clone(),
        )
        .unwrap()
        .with_verification_key(
            SigningKey::hs256("hs-1", &[8; 32])
                .unwrap()
                .verifying_key()
                .clone(),
        )
        .unwrap();
    let addr = serve(JwksService::new(keys.clone())).await;

    let (parts, body) = request(addr, Method::GET, "/auth/jwt/jwks.json").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(
        parts.headers["cache-control"],
        "max-age=60, must-revalidate"
    );
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let keys_json = doc["keys"].as_array().unwrap();
    assert_eq!(keys_json.len(), 2, "HS256 never published");
    assert_eq!(keys_json[0]["kid"], "ed-1");
    assert_eq!(keys_json[0]["kty"], "OKP");
    assert_eq!(keys_json[1]["kid"], "rsa-1");
    assert_eq!(keys_json[1]["kty"], "RSA");
    for k in keys_json {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(k.get(private).is_none());
        }
    }

    // HEAD: headers, no body
    let (parts, body) = request(addr, Method::HEAD, "/auth/jwt/jwks.json").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert!(body.is_empty());
    // other methods and paths
    let (parts, _) = request(addr, Method::POST, "/auth/jwt/jwks.json").await;
    assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(parts.headers["allow"], "GET, HEAD");
    let (parts, _) = request(addr, Method::GET, "/auth/jwt/jwks.json/x").await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    let (parts, _) = request(addr, Method::GET, "/jwt/jwks.json").await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);

    // a rotation shows up at once
    keys.rotate(SigningKey::generate_ed25519("ed-2").unwrap())
        .unwrap();
    let (_, body) = request(addr, Method::GET, "/auth/jwt/jwks.json").await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["keys"][0]["kid"], "ed-2");
    assert_eq!(doc["keys"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn builder_base_path_and_max_age() {
    let keys = KeySet::new(SigningKey::generate_ed25519("k").unwrap());
    let svc = JwksService::builder(keys.clone())
        .api_base_path("/api/v1/auth/")
        .max_age(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert_eq!(svc.path(), "/api/v1/auth/jwt/jwks.json");
    let res = svc
        .clone()
        .oneshot(
            Request::get("/api/v1/auth/jwt/jwks.json?x=1")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["cache-control"],
        "max-age=3600, must-revalidate"
    );
    let root = JwksService::builder(keys.clone())
        .api_base_path("/")
        .build()
        .unwrap();
    assert_eq!(root.path(), "/jwt/jwks.json");
    // One normaliser with the cookie configuration: "auth" is "/auth" here too.
    let no_slash = JwksService::builder(keys.clone())
        .api_base_path("auth")
        .build()
        .unwrap();
    assert_eq!(no_slash.path(), "/auth/jwt/jwks.json");
    for bad in ["/a?b", "/a b", "/a#b"] {
        assert!(matches!(
            JwksService::builder(keys.clone())
                .api_base_path(bad)
                .build(),
            Err(JwksConfigError::BasePath(_))
        ));
    }
}

#[tokio::test]
async fn openid_discovery_document_over_http() {
    use tower_session_refresh::jwks::OpenIdDiscoveryService;
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    keys.rotate(SigningKey::rs256_from_pkcs8_pem("k2", RSA_PKCS8).unwrap())
        .unwrap();
    let svc = OpenIdDiscoveryService::builder("https://api.example.com/", keys.clone())
        .api_base_path("/api/auth/")
        .build()
        .unwrap();
    assert_eq!(svc.path(), "/api/auth/.well-known/openid-configuration");
    assert_eq!(svc.issuer(), "https://api.example.com/api/auth");
    let addr = tower_session_testkit::serve::serve(
        axum::Router::new().route_service(svc.path(), svc.clone()),
    )
    .await;
    let (parts, body) = request(addr, Method::GET, svc.path()).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["content-type"], "application/json");
    assert_eq!(parts.headers["access-control-allow-origin"], "*");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["issuer"], "https://api.example.com/api/auth");
    assert_eq!(
        doc["jwks_uri"],
        "https://api.example.com/api/auth/jwt/jwks.json"
    );
    // the algorithms of the published keys, signing key's first
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "EdDSA"])
    );
    let (parts, body) = request(addr, Method::HEAD, svc.path()).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert!(body.is_empty());
    let (parts, _) = request(addr, Method::POST, svc.path()).await;
    assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
    let res = svc
        .clone()
        .oneshot(Request::get("/api/auth/other").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    for bad in [
        "api.example.com",
        "https://api.example.com/path",
        "ftp://x",
        "",
    ] {
        assert!(
            matches!(
                OpenIdDiscoveryService::builder(bad, keys.clone()).build(),
                Err(JwksConfigError::ApiDomain(_))
            ),
            "{bad}"
        );
    }
    // The JWKS is public too: readable from any origin, as SuperTokens' core serves it.
    let res = JwksService::new(keys.clone())
        .oneshot(Request::get("/auth/jwt/jwks.json").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    // One base-path normaliser with the cookie configuration and the JWKS: "no-slash" is
    // "/no-slash" here too, and the api domain goes through the one origin parser.
    let d = OpenIdDiscoveryService::builder("HTTPS://A.example:443/", keys.clone())
        .api_base_path("no-slash")
        .build()
        .unwrap();
    assert_eq!(d.issuer(), "https://a.example/no-slash");
    assert_eq!(d.path(), "/no-slash/.well-known/openid-configuration");
    for bad in ["/a?b", "/a b", "/a#b"] {
        assert!(matches!(
            OpenIdDiscoveryService::builder("https://a.example", keys.clone())
                .api_base_path(bad)
                .build(),
            Err(JwksConfigError::BasePath(_))
        ));
    }
    assert!(matches!(
        OpenIdDiscoveryService::builder("https://my_host.example", keys).build(),
        Err(JwksConfigError::ApiDomain(_))
    ));
}
