//! Certificates made by the test (rcgen) and an HTTPS server on loopback (tokio-rustls), for
//! clients that must refuse an untrusted CA, a wrong host name or an expired certificate.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority of the test's own.
pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A server certificate (with its key) signed by a [`TestCa`].
pub struct Leaf {
    /// The leaf certificate, DER.
    pub cert: CertificateDer<'static>,
    /// The CA certificate, sent as the chain's second element.
    pub chain: CertificateDer<'static>,
    /// The leaf's PKCS#8 key.
    pub key: Vec<u8>,
}

impl TestCa {
    /// A new CA, ECDSA P-256.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    /// The CA certificate, PEM (what a `--jwks-ca` file holds).
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid now for a day.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |_| {})
    }

    /// A server certificate that expired in 2020.
    pub fn expired_leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |p| {
            p.not_before = rcgen::date_time_ymd(2019, 1, 1);
            p.not_after = rcgen::date_time_ymd(2020, 1, 1);
        })
    }

    fn leaf_with(&self, names: &[&str], edit: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "leaf");
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(3600)).into();
        params.not_after = (now + std::time::Duration::from_secs(86_400)).into();
        edit(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            cert: cert.der().clone(),
            chain: self.der(),
            key: key.serialize_der(),
        }
    }
}

/// A rustls server configuration (ring, HTTP/1.1 by ALPN) presenting `leaf`.
pub fn server_config(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.cert.clone(), leaf.chain.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone())),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// An HTTPS server on loopback; [`stop`](Self::stop) closes the listener and every
/// connection (an auth server that went down). Dropping it leaves the server running.
pub struct TlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
}

impl TlsServer {
    /// Stops accepting and drops every open connection.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    if rx.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Serves `app` over HTTPS with `leaf` on a free loopback port. Failed handshakes are
/// dropped (the client sees them).
pub async fn serve_tls(app: Router, leaf: &Leaf) -> TlsServer {
    let (listener, _) = crate::serve::listener().await;
    serve_tls_on(listener, app, leaf)
}

/// As [`serve_tls`], on a listener the caller bound (to know the port beforehand).
pub fn serve_tls_on(listener: tokio::net::TcpListener, app: Router, leaf: &Leaf) -> TlsServer {
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(leaf));
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = stopped(rx.clone()) => return,
            };
            let Ok((stream, _)) = accepted else {
                return;
            };
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(app.clone());
            let rx = rx.clone();
            tokio::spawn(async move {
                let conn = async {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                };
                tokio::select! {
                    () = conn => {}
                    () = stopped(rx) => {}
                }
            });
        }
    });
    TlsServer { addr, stop }
}
