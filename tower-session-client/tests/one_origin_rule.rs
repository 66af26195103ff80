//! One origin rule for the whole workspace: every builder that takes an `api_domain`
//! (cookie config, session config, `SharedSession`, the client, OpenID discovery) accepts
//! and refuses exactly what `tower_domain_guard::Origin::parse` accepts and refuses.

use tower_domain_guard::Origin;
use tower_session_client::ClientConfig;
use tower_session_cookie::SessionCookieConfig;
use tower_session_refresh::jwks::OpenIdDiscoveryService;
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::SessionConfig;
use tower_session_refresh::SharedSession;

const INPUTS: &[(&str, bool)] = &[
    ("https://api.example.com", true),
    ("HTTPS://Api.Example.com/", true),
    ("https://api.example.com:443", true),
    ("https://api.example.com:8443", true),
    ("https://api.example.com:80", true),
    ("  https://api.example.com.  ", true),
    // Refused everywhere: a bare host, a path, `_`, a bad port, user-info, other schemes.
    ("api.example.com", false),
    ("api.example.com:8443", false),
    ("https://api.example.com/auth", false),
    ("https://api.example.com/?x", false),
    ("https://my_api.example.com", false),
    ("https://api.example.com:99999", false),
    ("https://api.example.com:", false),
    ("https://u@api.example.com", false),
    ("ftp://api.example.com", false),
    ("https://", false),
    ("", false),
];

fn keys() -> KeySet {
    KeySet::new(SigningKey::generate_ed25519("k1").expect("key"))
}

#[tokio::test]
async fn every_builder_gives_the_same_answer() {
    for &(input, want) in INPUTS {
        let origin = Origin::parse(input);
        assert_eq!(origin.is_ok(), want, "Origin::parse({input:?}): {origin:?}");

        let cookie = SessionCookieConfig::builder()
            .api_domain(input)
            .website_domain("https://www.example.com")
            .build();
        assert_eq!(cookie.is_ok(), want, "cookie config {input:?}: {cookie:?}");

        let cookies = SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://www.example.com")
            .build()
            .expect("cookie config");
        let session = SessionConfig::builder(cookies)
            .keys(keys())
            .api_domain(input)
            .build();
        assert_eq!(session.is_ok(), want, "session config {input:?}");

        let shared = SharedSession::builder(".example.com")
            .api_domain(input)
            .website_domain("https://www.example.com")
            .build();
        match &shared {
            Ok(_) => assert!(want, "SharedSession accepted {input:?}"),
            Err(e) => {
                assert!(!want, "SharedSession refused {input:?}: {e}");
                assert!(e.to_string().contains("api_domain"), "{e}");
            }
        }

        let client = ClientConfig::builder(input).build();
        assert_eq!(client.is_ok(), want, "client config {input:?}: {client:?}");

        let discovery = OpenIdDiscoveryService::builder(input, keys()).build();
        assert_eq!(discovery.is_ok(), want, "discovery {input:?}");
    }
}

#[tokio::test]
async fn every_builder_normalises_the_same_way() {
    let keys = keys();
    for input in ["HTTPS://Api.Example.com:443/", "https://api.example.com"] {
        let shown = Origin::parse(input).expect("valid").to_string();
        assert_eq!(shown, "https://api.example.com");
        let cookies = SessionCookieConfig::builder()
            .api_domain(input)
            .website_domain("https://www.example.com")
            .build()
            .expect("cookie config");
        let session = SessionConfig::builder(cookies)
            .keys(keys.clone())
            .api_domain(input)
            .build()
            .expect("session config");
        assert_eq!(session.issuer(), Some("https://api.example.com/auth"));
        let discovery = OpenIdDiscoveryService::builder(input, keys.clone())
            .build()
            .expect("discovery");
        assert_eq!(discovery.issuer(), "https://api.example.com/auth");
        let client = ClientConfig::builder(input).build().expect("client");
        assert_eq!(
            client.refresh_uri().to_string(),
            "https://api.example.com/auth/session/refresh"
        );
    }
    // A non-default port is kept everywhere.
    let client = ClientConfig::builder("http://api.example.com:8080/")
        .build()
        .expect("client");
    assert_eq!(
        client.refresh_uri().to_string(),
        "http://api.example.com:8080/auth/session/refresh"
    );
}

#[test]
fn one_base_path_rule() {
    let keys = keys();
    for (input, want) in [("auth", "/auth"), ("/auth/", "/auth"), ("/", ""), ("", "")] {
        let norm = tower_session_cookie::normalise_api_base_path(input).expect("valid");
        assert_eq!(norm, want);
        let cookies = SessionCookieConfig::builder()
            .api_domain("https://api.example.com")
            .website_domain("https://www.example.com")
            .api_base_path(input)
            .build()
            .expect("cookie config");
        assert_eq!(cookies.api_base_path(), want);
        let jwks = tower_session_refresh::jwks::JwksService::builder(keys.clone())
            .api_base_path(input)
            .build()
            .expect("jwks");
        assert_eq!(jwks.path(), format!("{want}/jwt/jwks.json"));
        let d = OpenIdDiscoveryService::builder("https://api.example.com", keys.clone())
            .api_base_path(input)
            .build()
            .expect("discovery");
        assert_eq!(d.issuer(), format!("https://api.example.com{want}"));
        let c = ClientConfig::builder("https://api.example.com")
            .api_base_path(input)
            .build()
            .expect("client");
        assert_eq!(
            c.sign_out_uri().to_string(),
            format!("https://api.example.com{want}/signout")
        );
    }
}
