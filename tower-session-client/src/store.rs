//! Where the client keeps its session between calls (and, if you want, between runs).

use std::fmt;
use std::sync::{Arc, Mutex};

/// Everything the client knows about its session, in a form a [`TokenStore`] can persist.
///
/// `Debug` shows which parts are present, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredSession {
    /// Header mode: the access token (`st-access-token`).
    pub access_token: Option<String>,
    /// Header mode: the refresh token (`st-refresh-token`).
    pub refresh_token: Option<String>,
    /// The last `front-token` header value (standard base64 JSON `{uid, ate, up}`).
    pub front_token: Option<String>,
    /// The anti-CSRF token, when the server uses `VIA_TOKEN`.
    pub anti_csrf: Option<String>,
    /// The session's cookie jar (cookie mode), as `cookie_store` JSON, including session
    /// cookies.
    pub cookies: Option<String>,
}

impl fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |v: &Option<String>| if v.is_some() { "<present>" } else { "<none>" };
        f.debug_struct("StoredSession")
            .field("access_token", &present(&self.access_token))
            .field("refresh_token", &present(&self.refresh_token))
            .field("front_token", &present(&self.front_token))
            .field("anti_csrf", &present(&self.anti_csrf))
            .field("cookies", &present(&self.cookies))
            .finish()
    }
}

/// Where the client layer keeps its session.
///
/// The layer works on an in-memory copy; it calls [`load`](Self::load) once when it is
/// built, [`save`](Self::save) after every change (sign-in, refresh, new cookies) and
/// [`clear`](Self::clear) when the session ends. The calls are synchronous and made
/// outside any await point; a store that writes a file (a CLI keeping its login) should
/// keep writes small and handle its own errors (log them): a store failure never fails a
/// request.
///
/// ```
/// use std::sync::Mutex;
/// use tower_session_client::{StoredSession, TokenStore};
///
/// /// Keeps the session in a file, as a CLI might.
/// #[derive(Debug)]
/// struct FileStore(std::path::PathBuf, Mutex<()>);
///
/// impl TokenStore for FileStore {
///     fn load(&self) -> Option<StoredSession> {
///         let text = std::fs::read_to_string(&self.0).ok()?;
///         let mut lines = text.lines().map(|l| (!l.is_empty()).then(|| l.to_owned()));
///         Some(StoredSession {
///             access_token: lines.next().flatten(),
///             refresh_token: lines.next().flatten(),
///             front_token: lines.next().flatten(),
///             anti_csrf: lines.next().flatten(),
///             cookies: lines.next().flatten(),
///         })
///     }
///     fn save(&self, s: &StoredSession) {
///         let _guard = self.1.lock();
///         let line = |v: &Option<String>| v.clone().unwrap_or_default().replace('\n', "");
///         let text = [&s.access_token, &s.refresh_token, &s.front_token, &s.anti_csrf, &s.cookies]
///             .map(line)
///             .join("\n");
///         let _ = std::fs::write(&self.0, text); // a real CLI would log errors
///     }
///     fn clear(&self) {
///         let _ = std::fs::remove_file(&self.0);
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// The saved session, if any.
    fn load(&self) -> Option<StoredSession>;
    /// Saves the current session (replacing what was saved).
    fn save(&self, session: &StoredSession);
    /// Forgets the session.
    fn clear(&self);
}

/// The default [`TokenStore`]: keeps the session in memory only. Clones share it.
///
/// ```
/// use tower_session_client::{MemoryTokenStore, StoredSession, TokenStore};
///
/// let store = MemoryTokenStore::new();
/// assert!(store.load().is_none());
/// store.save(&StoredSession { front_token: Some("e30=".into()), ..Default::default() });
/// assert!(store.load().is_some());
/// store.clear();
/// assert!(store.load().is_none());
/// ```
#[derive(Clone, Default)]
pub struct MemoryTokenStore {
    inner: Arc<Mutex<Option<StoredSession>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has = self.inner.lock().map(|s| s.is_some()).unwrap_or(false);
        f.debug_struct("MemoryTokenStore")
            .field("has_session", &has)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Option<StoredSession> {
        self.inner.lock().ok().and_then(|s| s.clone())
    }

    fn save(&self, session: &StoredSession) {
        if let Ok(mut s) = self.inner.lock() {
            *s = Some(session.clone());
        }
    }

    fn clear(&self) {
        if let Ok(mut s) = self.inner.lock() {
            *s = None;
        }
    }
}
