//! The command line: `sdk-test-server --sdk-dir DIR [--redis URL] [--node-modules DIR]`, the
//! port from `NODE_PORT` (default 8080) as in the original.

use std::path::PathBuf;

pub(crate) const USAGE: &str = "\
usage: sdk-test-server --sdk-dir DIR [--redis URL] [--node-modules DIR]

  --sdk-dir DIR       a checkout of supertokens/supertokens-website (serves DIR/test/server/index.html
                      and the Angular test app in DIR/test/server/angular; reads the SDK version)
  --redis URL         where the session state of every test app lives (default redis://127.0.0.1:6379);
                      the 8080 and 8082 processes must share it
  --node-modules DIR  npm packages the test page loads instead of its CDN scripts (axios,
                      axios-mock-adapter, umd-assert; default DIR/node_modules of --sdk-dir)

environment: NODE_PORT (default 8080), TRANSFER_METHOD (cookie|header: the only method new
sessions use, as the original's getTokenTransferMethod)";

/// The parsed command line.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    pub(crate) port: u16,
    pub(crate) sdk_dir: PathBuf,
    pub(crate) node_modules: PathBuf,
    pub(crate) redis: String,
}

impl Args {
    /// Parses the flags (not the program name) and `NODE_PORT`; errors name the flag.
    pub(crate) fn parse(
        args: impl Iterator<Item = String>,
        node_port: Option<String>,
    ) -> Result<Self, String> {
        let mut sdk_dir = None;
        let mut node_modules = None;
        let mut redis = "redis://127.0.0.1:6379".to_owned();
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("error: {name}: missing value\n\n{USAGE}"))
            };
            match flag.as_str() {
                "--sdk-dir" => sdk_dir = Some(PathBuf::from(value("--sdk-dir")?)),
                "--node-modules" => node_modules = Some(PathBuf::from(value("--node-modules")?)),
                "--redis" => redis = value("--redis")?,
                other => return Err(format!("error: unknown flag {other:?}\n\n{USAGE}")),
            }
        }
        let sdk_dir = sdk_dir.ok_or_else(|| format!("error: --sdk-dir: required\n\n{USAGE}"))?;
        if !sdk_dir.join("test/server").is_dir() {
            return Err(format!(
                "error: --sdk-dir: {} is not a supertokens-website checkout (no test/server)",
                sdk_dir.display()
            ));
        }
        if !redis.starts_with("redis://") {
            return Err(format!("error: --redis: {redis:?} is not a redis:// URL"));
        }
        let port = match node_port {
            None => 8080,
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| format!("error: NODE_PORT: {p:?} is not a port number"))?,
        };
        let node_modules = node_modules.unwrap_or_else(|| sdk_dir.join("node_modules"));
        Ok(Self {
            port,
            sdk_dir,
            node_modules,
            redis,
        })
    }
}
