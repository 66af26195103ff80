//! The seed's setup on `SharedSession`: one sign-in for `api.example.com` and
//! `api2.example.com`, the website on `www.example.com`, sessions in memory.
use axum::{
    extract::State,
    routing::{get, post},
    Router,
};
use tower_session_refresh::{
    Session, SessionError, SessionTokens, SharedSession, SharedSessionError,
};

pub(crate) fn auth() -> Result<SharedSession, SharedSessionError> {
    SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .build()
}

pub(crate) fn app(auth: &SharedSession) -> Router {
    Router::new()
        .route("/login", post(login))
        .with_state(auth.clone())
        .merge(
            Router::new()
                .route("/me", get(me))
                .route_layer(auth.require_session()),
        )
        .layer(auth.layer())
}

async fn login(
    State(auth): State<SharedSession>,
    tokens: SessionTokens,
    body: String,
) -> Result<&'static str, SessionError> {
    // ... check the credentials; the body here is just the user id ...
    auth.create_session(&tokens, body.trim(), serde_json::json!({}))
        .await?;
    Ok("ok")
}

async fn me(session: Session) -> String {
    session.user_id().to_owned()
}

#[allow(dead_code)] // tests include this file and call `auth` and `app`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = auth()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app(&auth)).await?;
    Ok(())
}
