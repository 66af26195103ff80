//! Command-line flags of `multi-api-demo`, exactly as `spec/demo-contract.md` lists them.
//! Parsed by hand: a dozen flags do not need a parser dependency.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// A bad flag: printed as one line on stderr, and the process exits with status 2.
#[derive(Debug)]
pub(crate) struct FlagError {
    pub(crate) flag: String,
    pub(crate) reason: String,
}

impl std::fmt::Display for FlagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error: {}: {}", self.flag, self.reason)
    }
}

pub(crate) fn flag_error(flag: &str, reason: impl Into<String>) -> FlagError {
    FlagError {
        flag: flag.to_owned(),
        reason: reason.into(),
    }
}

/// The host names (first labels) the demo knows.
pub(crate) const HOSTS: [&str; 4] = ["api", "api2", "api3", "www"];

/// The session store chosen with `--store`.
#[derive(Debug, Clone)]
pub(crate) enum StoreChoice {
    Memory,
    Redis(String),
    /// `postgres://USER@HOST:PORT/DB`, checked by [`postgres_url`].
    Postgres(String),
    /// `redis-cluster://HOST:PORT[,HOST:PORT…]`: the seed nodes, as `redis://HOST:PORT`
    /// each, checked by [`redis_cluster_nodes`].
    RedisCluster(Vec<String>),
}

/// Every flag, with the contract's defaults applied except the ones that depend on the
/// bound port (`api_domain`, `website_domain`), which stay `None` until the socket is bound.
#[derive(Debug)]
pub(crate) struct Args {
    pub(crate) listen: SocketAddr,
    pub(crate) cookie_domain: String,
    pub(crate) api_domain: Option<String>,
    pub(crate) website_domain: Option<String>,
    pub(crate) api_base_path: String,
    pub(crate) access_token_ttl: Duration,
    pub(crate) refresh_token_ttl: Duration,
    pub(crate) store: StoreChoice,
    pub(crate) older_cookie_domain: Option<String>,
    pub(crate) anti_csrf: Option<String>,
    pub(crate) website_dir: Option<PathBuf>,
    pub(crate) allow_hosts: Vec<String>,
    pub(crate) signing_key: Option<PathBuf>,
    pub(crate) key_rotation: Duration,
    pub(crate) serve: Vec<String>,
    pub(crate) jwks_url: Option<String>,
    /// One more trusted CA (PEM) for an `https://` `--jwks-url`.
    pub(crate) jwks_ca: Option<PathBuf>,
    /// A connection is closed when a request head takes longer than this, or when it has
    /// no request in progress and moved no byte for this long.
    pub(crate) header_timeout: Duration,
    /// A request is answered 503 when its handler takes longer than this.
    pub(crate) request_timeout: Duration,
    /// Connections served at once; past it, new ones are closed at once.
    pub(crate) max_connections: usize,
    /// `--check-database`: protected routes look the session up in the store.
    pub(crate) check_database: bool,
    /// `--session-expired-status N` (checked by the session builder: 4xx).
    pub(crate) session_expired_status: u16,
    /// `--invalid-claim-status N` (checked by the session builder: 4xx).
    pub(crate) invalid_claim_status: u16,
}

pub(crate) const USAGE: &str = "usage: multi-api-demo [--listen ADDR] [--cookie-domain D] [--api-domain URL] \
[--website-domain URL] [--api-base-path P] [--access-token-ttl SECS] [--refresh-token-ttl SECS] \
[--store memory|redis://HOST:PORT[/DB]|redis-cluster://HOST:PORT[,HOST:PORT…]|postgres://USER@HOST:PORT/DB] [--older-cookie-domain D] [--anti-csrf none|via-custom-header|via-token] \
[--website-dir DIR] [--allow-host H]... [--signing-key FILE] [--key-rotation SECS] [--serve LIST] [--jwks-url URL] [--jwks-ca FILE] \
[--header-timeout SECS] [--request-timeout SECS] [--max-connections N] \
[--check-database] [--session-expired-status N] [--invalid-claim-status N]
note: a Redis without persistence (appendonly yes, appendfsync everysec) loses every session when it restarts";

impl Args {
    /// Parses the flags (without the program name).
    pub(crate) fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, FlagError> {
        let mut args = Args {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            cookie_domain: ".example.test".to_owned(),
            api_domain: None,
            website_domain: None,
            api_base_path: "/auth".to_owned(),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(8_640_000),
            store: StoreChoice::Memory,
            older_cookie_domain: None,
            anti_csrf: None,
            website_dir: None,
            allow_hosts: Vec::new(),
            signing_key: None,
            key_rotation: Duration::from_secs(604_800),
            serve: HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            jwks_url: None,
            jwks_ca: None,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            check_database: false,
            session_expired_status: 401,
            invalid_claim_status: 403,
        };
        while let Some(flag) = it.next() {
            // Accept both `--flag value` and `--flag=value`.
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (flag.clone(), None),
            };
            let mut value = || -> Result<String, FlagError> {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| flag_error(&name, "needs a value"))
            };
            match name.as_str() {
                "--listen" => {
                    let v = value()?;
                    args.listen = v.parse().map_err(|_| {
                        flag_error(&name, format!("`{v}` is not an IP:PORT socket address"))
                    })?;
                }
                "--cookie-domain" => args.cookie_domain = value()?,
                "--api-domain" => args.api_domain = Some(value()?),
                "--website-domain" => args.website_domain = Some(value()?),
                "--api-base-path" => {
                    let v = value()?;
                    if !v.starts_with('/') || v.contains(['?', '#', ' ']) {
                        return Err(flag_error(
                            &name,
                            format!("`{v}` must be a path starting with `/`"),
                        ));
                    }
                    args.api_base_path = v.trim_end_matches('/').to_owned();
                }
                "--access-token-ttl" => args.access_token_ttl = seconds(&name, &value()?)?,
                "--refresh-token-ttl" => args.refresh_token_ttl = seconds(&name, &value()?)?,
                "--store" => {
                    let v = value()?;
                    args.store = if v == "memory" {
                        StoreChoice::Memory
                    } else if v.starts_with("redis://") {
                        StoreChoice::Redis(v)
                    } else if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                        StoreChoice::Postgres(postgres_url(&name, v)?)
                    } else if v.starts_with("redis-cluster://") {
                        StoreChoice::RedisCluster(redis_cluster_nodes(&name, &v)?)
                    } else {
                        // Not echoed: a URL may carry a password.
                        return Err(flag_error(
                            &name,
                            "must be `memory`, `redis://HOST:PORT[/DB]`, \
                             `redis-cluster://HOST:PORT[,HOST:PORT…]` or \
                             `postgres://USER@HOST:PORT/DB`",
                        ));
                    };
                }
                "--older-cookie-domain" => args.older_cookie_domain = Some(value()?),
                "--anti-csrf" => {
                    let v = value()?;
                    if !matches!(v.as_str(), "none" | "via-custom-header" | "via-token") {
                        return Err(flag_error(
                            &name,
                            format!("`{v}` is not one of none, via-custom-header, via-token"),
                        ));
                    }
                    args.anti_csrf = Some(v);
                }
                "--website-dir" => {
                    let v = PathBuf::from(value()?);
                    if !v.is_dir() {
                        return Err(flag_error(
                            &name,
                            format!("`{}` is not a directory", v.display()),
                        ));
                    }
                    args.website_dir = Some(v);
                }
                "--allow-host" => args.allow_hosts.push(value()?),
                "--signing-key" => {
                    let v = PathBuf::from(value()?);
                    if !v.is_file() {
                        return Err(flag_error(
                            &name,
                            format!("`{}` is not a readable file", v.display()),
                        ));
                    }
                    args.signing_key = Some(v);
                }
                "--key-rotation" => args.key_rotation = seconds(&name, &value()?)?,
                "--serve" => {
                    let v = value()?;
                    let mut serve = Vec::new();
                    for host in v.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                        if !HOSTS.contains(&host) {
                            return Err(flag_error(
                                &name,
                                format!("unknown host `{host}` (known: api, api2, api3, www)"),
                            ));
                        }
                        if !serve.iter().any(|h| h == host) {
                            serve.push(host.to_owned());
                        }
                    }
                    if serve.is_empty() {
                        return Err(flag_error(&name, "names no host"));
                    }
                    args.serve = serve;
                }
                "--jwks-url" => {
                    let v = value()?;
                    if !(v.starts_with("https://") || v.starts_with("http://")) {
                        return Err(flag_error(
                            &name,
                            format!(
                                "`{v}` must be an https:// (or, for loopback tests, http://) URL"
                            ),
                        ));
                    }
                    args.jwks_url = Some(v);
                }
                "--jwks-ca" => {
                    let v = PathBuf::from(value()?);
                    if !v.is_file() {
                        return Err(flag_error(
                            &name,
                            format!("`{}` is not a readable file", v.display()),
                        ));
                    }
                    args.jwks_ca = Some(v);
                }
                "--header-timeout" => args.header_timeout = seconds(&name, &value()?)?,
                "--request-timeout" => args.request_timeout = seconds(&name, &value()?)?,
                "--max-connections" => {
                    let v = value()?;
                    args.max_connections = match v.parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(flag_error(
                                &name,
                                format!("`{v}` is not a positive number of connections"),
                            ))
                        }
                    };
                }
                "--check-database" => {
                    if inline.is_some() {
                        return Err(flag_error(&name, "takes no value"));
                    }
                    args.check_database = true;
                }
                "--session-expired-status" => {
                    args.session_expired_status = status(&name, &value()?)?;
                }
                "--invalid-claim-status" => args.invalid_claim_status = status(&name, &value()?)?,
                other => {
                    return Err(flag_error(other, "unknown flag (see --help)"));
                }
            }
        }
        if args.jwks_url.is_some() && args.serve.iter().any(|h| h == "api") {
            return Err(flag_error(
                "--serve",
                "a verify-only process (--jwks-url) issues no tokens, so it cannot serve `api`",
            ));
        }
        if args.jwks_ca.is_some() && args.jwks_url.is_none() {
            return Err(flag_error(
                "--jwks-ca",
                "only applies to an https:// --jwks-url, and none is given",
            ));
        }
        if args.jwks_url.is_some() && args.signing_key.is_some() {
            return Err(flag_error(
                "--signing-key",
                "a verify-only process (--jwks-url) holds no signing key",
            ));
        }
        if args.access_token_ttl >= args.refresh_token_ttl {
            return Err(flag_error(
                "--refresh-token-ttl",
                "must be longer than --access-token-ttl",
            ));
        }
        Ok(args)
    }

    /// Whether this process serves the host `label`.
    pub(crate) fn serves(&self, label: &str) -> bool {
        self.serve.iter().any(|h| h == label)
    }
}

/// An HTTP status for `--session-expired-status` / `--invalid-claim-status`: a 4xx number
/// (whether the two differ is checked by the session builder).
fn status(flag: &str, v: &str) -> Result<u16, FlagError> {
    match v.parse::<u16>() {
        Ok(n) if (400..500).contains(&n) => Ok(n),
        _ => Err(flag_error(
            flag,
            format!("`{v}` is not a 4xx HTTP status (e.g. 401)"),
        )),
    }
}

fn seconds(flag: &str, v: &str) -> Result<Duration, FlagError> {
    match v.parse::<u64>() {
        Ok(0) | Err(_) => Err(flag_error(
            flag,
            format!("`{v}` is not a positive number of seconds"),
        )),
        Ok(n) => Ok(Duration::from_secs(n)),
    }
}

/// Whether `host` is a DNS name, an IPv4 address or a bracketed IPv6 address.
fn host_ok(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }
}

/// Checks `redis-cluster://HOST:PORT[,HOST:PORT…]` (at least one node, each with a port);
/// the seed nodes as `redis://HOST:PORT`.
fn redis_cluster_nodes(flag: &str, url: &str) -> Result<Vec<String>, FlagError> {
    const FORM: &str = "must be redis-cluster://HOST:PORT[,HOST:PORT…]";
    let bad = |why: &str| flag_error(flag, format!("{FORM}: {why}"));
    let rest = url
        .strip_prefix("redis-cluster://")
        .ok_or_else(|| bad("unknown scheme"))?;
    rest.split(',')
        .map(|node| {
            let (host, port) = node.rsplit_once(':').ok_or_else(|| bad("no :PORT"))?;
            if !host_ok(host) {
                return Err(bad("bad host"));
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => Ok(format!("redis://{host}:{p}")),
                _ => Err(bad("bad port")),
            }
        })
        .collect()
}

/// Checks `postgres://USER[:PASSWORD]@HOST:PORT/DB` (or `postgresql://`); the reason never
/// repeats the URL, which may carry a password.
fn postgres_url(flag: &str, url: String) -> Result<String, FlagError> {
    const FORM: &str = "must be postgres://USER@HOST:PORT/DB";
    let bad = |why: &str| flag_error(flag, format!("{FORM}: {why}"));
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| bad("unknown scheme"))?;
    let (authority, db) = rest.split_once('/').ok_or_else(|| bad("no /DB"))?;
    if db.is_empty() || db.contains(['/', '?', '#', '@']) {
        return Err(bad("bad database name"));
    }
    let (user_info, host_port) = authority.rsplit_once('@').ok_or_else(|| bad("no USER@"))?;
    let user = user_info.split(':').next().unwrap_or("");
    if user.is_empty() {
        return Err(bad("empty user"));
    }
    let (host, port) = host_port.rsplit_once(':').ok_or_else(|| bad("no :PORT"))?;
    if !host_ok(host) {
        return Err(bad("bad host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(url),
        _ => Err(bad("bad port")),
    }
}

#[cfg(test)]
mod postgres_url_tests {
    use super::postgres_url;

    #[test]
    fn accepts_the_contract_form_and_refuses_the_rest_without_echoing_it() {
        for good in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgresql://auth:secret@db.internal:6432/app",
            "postgres://u@[::1]:5432/d",
        ] {
            assert_eq!(postgres_url("--store", good.to_owned()).expect(good), good);
        }
        for bad in [
            "postgres://127.0.0.1:5432/test",
            "postgres://u@127.0.0.1/test",
            "postgres://u@127.0.0.1:0/test",
            "postgres://u@127.0.0.1:99999/test",
            "postgres://u@127.0.0.1:5432",
            "postgres://u@127.0.0.1:5432/",
            "postgres://u:pw-secret@host name:5432/db",
            "postgres://:pw-secret@h:5432/db",
        ] {
            let e = postgres_url("--store", bad.to_owned()).expect_err(bad);
            assert_eq!(e.flag, "--store");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}

#[cfg(test)]
mod redis_cluster_tests {
    use super::redis_cluster_nodes;

    #[test]
    fn seed_nodes_are_checked() {
        assert_eq!(
            redis_cluster_nodes(
                "--store",
                "redis-cluster://127.0.0.1:7000,h-2.internal:7001"
            )
            .expect("good"),
            ["redis://127.0.0.1:7000", "redis://h-2.internal:7001"]
        );
        assert_eq!(
            redis_cluster_nodes("--store", "redis-cluster://[::1]:7000").expect("v6"),
            ["redis://[::1]:7000"]
        );
        for bad in [
            "redis-cluster://",
            "redis-cluster://127.0.0.1",
            "redis-cluster://127.0.0.1:0",
            "redis-cluster://127.0.0.1:70000",
            "redis-cluster://127.0.0.1:7000,",
            "redis-cluster://127.0.0.1:7000/0",
            "redis-cluster://u:pw@127.0.0.1:7000",
            "redis-cluster://host name:7000",
        ] {
            let e = redis_cluster_nodes("--store", bad).expect_err(bad);
            assert_eq!(e.flag, "--store");
        }
    }
}
