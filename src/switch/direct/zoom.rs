//! Zoom's OAuth endpoints through the `oauth2` crate: HTTP Basic client authentication,
//! S256 PKCE, the exact redirect URI, a bounded timeout, no redirects followed, and a
//! code is sent once (never retried).

use crate::settings::ZoomSettings;
use crate::store::ZoomIdentity;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// A token set as Zoom returned it.
pub struct Tokens {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub expires_in: Option<Duration>,
    pub scope: String,
}

/// Why a token request did not give tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the client ID or secret was refused (invalid_client)")]
    InvalidClient,
    #[error("the code or refresh token was refused (invalid_grant)")]
    InvalidGrant,
    #[error("the token endpoint answered {0}")]
    Refused(String),
    #[error("the token endpoint could not be reached or answered badly: {0}")]
    Unavailable(String),
}

#[derive(Debug, thiserror::Error)]
#[error("the new token could not be verified: {0}")]
pub struct VerifyError(String);

/// Why a revocation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// Zoom will not revoke it, and asking again will not change that.
    #[error("Zoom refused to revoke it ({0})")]
    Refused(String),
    #[error("Zoom could not be reached or answered badly: {0}")]
    Unavailable(String),
    /// The stored token could not be opened (another sealing key): nothing was sent.
    #[error("{0}")]
    Unsealed(String),
}

/// Which token a revocation names (RFC 7009's `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

pub struct Zoom {
    http: reqwest::Client,
    settings: ZoomSettings,
    redirect_uri: String,
}

impl Zoom {
    pub fn new(
        settings: ZoomSettings,
        redirect_uri: String,
        timeout: Duration,
    ) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            // A token endpoint that redirects is not to be followed (RFC 9700).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()?;
        Ok(Self {
            http,
            settings,
            redirect_uri,
        })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn urls(&self) -> Result<(AuthUrl, TokenUrl, RedirectUrl), TokenError> {
        let bad = |e: url::ParseError| TokenError::Unavailable(format!("bad endpoint URL: {e}"));
        Ok((
            AuthUrl::new(self.settings.authorize_url.to_string()).map_err(bad)?,
            TokenUrl::new(self.settings.token_url.to_string()).map_err(bad)?,
            RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?,
        ))
    }

    /// The personal authorization link: code flow, this `state`, S256 (Zoom would
    /// default to `plain` if the method were left out).
    pub fn authorize_url(
        &self,
        client_id: &str,
        state: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String, TokenError> {
        let (auth, _, redirect) = self.urls()?;
        let client = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_auth_uri(auth)
            .set_redirect_uri(redirect);
        let state = state.to_owned();
        let (url, _) = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.settings.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Ok(url.to_string())
    }

    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        verifier: &SecretString,
    ) -> Result<Tokens, TokenError> {
        let (_, token, redirect) = self.urls()?;
        let client = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_token_uri(token)
            .set_redirect_uri(redirect)
            .set_auth_type(AuthType::BasicAuth);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()))
            .request_async(&self.http)
            .await;
        tokens(response)
    }

    pub async fn refresh(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<Tokens, TokenError> {
        let (_, token, _) = self.urls()?;
        let client = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_token_uri(token)
            .set_auth_type(AuthType::BasicAuth);
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose_secret().to_owned()))
            .request_async(&self.http)
            .await;
        tokens(response)
    }

    /// Revokes a token at `zoom.revoke_url` (RFC 7009): a form POST with HTTP Basic client
    /// authentication, as Zoom documents it. Written here rather than through `oauth2`,
    /// whose revocation request refuses any URL that is not https, loopback included. The
    /// settings refuse plain http for every Zoom endpoint except one on this machine
    /// (loopback: a local proxy, or the tests' fake), so the secret never crosses the
    /// network in clear.
    pub async fn revoke(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        token: &SecretString,
        kind: TokenKind,
    ) -> Result<(), RevokeError> {
        // Encoded like the token requests `oauth2` sends (RFC 6749 section 2.3.1).
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let hint = match kind {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        };
        let response = self
            .http
            .post(self.settings.revoke_url.as_str())
            .basic_auth(
                encode(client_id),
                Some(encode(client_secret.expose_secret())),
            )
            .form(&[("token", token.expose_secret()), ("token_type_hint", hint)])
            .send()
            .await
            .map_err(|e| RevokeError::Unavailable(without_url(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(RevokeError::Unavailable(format!("Zoom answered {status}")));
        }
        #[derive(serde::Deserialize)]
        struct Refusal {
            #[serde(default)]
            error: String,
        }
        let code = response
            .json::<Refusal>()
            .await
            .map(|r| r.error)
            .unwrap_or_default();
        // Another service's words: kept only when they look like an OAuth error code.
        let code = if code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            code
        } else {
            String::new()
        };
        Err(RevokeError::Refused(if code.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}, {code}", status.as_u16())
        }))
    }

    /// Asks Zoom who the token belongs to; a token Zoom does not accept is no token.
    pub async fn verify(&self, access_token: &SecretString) -> Result<ZoomIdentity, VerifyError> {
        #[derive(serde::Deserialize)]
        struct Me {
            id: String,
            #[serde(default)]
            email: String,
            #[serde(default)]
            account_id: String,
        }
        let response = self
            .http
            .get(self.settings.userinfo_url.as_str())
            .bearer_auth(access_token.expose_secret())
            .send()
            .await
            .map_err(|e| VerifyError(without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(VerifyError(format!("Zoom answered {status}")));
        }
        let me: Me = response
            .json()
            .await
            .map_err(|_| VerifyError("an unreadable user".into()))?;
        if me.id.is_empty() {
            return Err(VerifyError("no user id".into()));
        }
        Ok(ZoomIdentity {
            user_id: me.id,
            email: me.email,
            account_id: me.account_id,
        })
    }
}

/// reqwest errors can carry the URL; ours hold no secrets, but keep logs short anyway.
fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

type TokenResult<T, E> = Result<T, RequestTokenError<E, oauth2::basic::BasicErrorResponse>>;

fn tokens<T: TokenResponse, E: std::error::Error + 'static>(
    response: TokenResult<T, E>,
) -> Result<Tokens, TokenError> {
    match response {
        Ok(token) => Ok(Tokens {
            access: SecretString::from(token.access_token().secret().to_owned()),
            refresh: token
                .refresh_token()
                .map(|r| SecretString::from(r.secret().to_owned())),
            expires_in: token.expires_in(),
            scope: token
                .scopes()
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        }),
        Err(RequestTokenError::ServerResponse(error)) => Err(match error.error() {
            BasicErrorResponseType::InvalidClient => TokenError::InvalidClient,
            BasicErrorResponseType::InvalidGrant => TokenError::InvalidGrant,
            other => TokenError::Refused(other.to_string()),
        }),
        Err(RequestTokenError::Request(e)) => Err(TokenError::Unavailable(short(&e))),
        Err(RequestTokenError::Parse(_, _)) => {
            Err(TokenError::Unavailable("an unreadable answer".into()))
        }
        Err(RequestTokenError::Other(text)) => Err(TokenError::Unavailable(text)),
    }
}

fn short(error: &dyn std::error::Error) -> String {
    // The innermost cause says what happened (timeout, refused connection, status).
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
