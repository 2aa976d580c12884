//! integrator.io's REST API, as CELIGO.md describes it: Bearer token, JSON, bare arrays
//! paged by `Link: rel="next"` (204 when empty), a client-side throttle well under the
//! documented limits, and retries only where repeating is safe.

use super::error::{CeligoError, Problem};
use super::health::{Health, TokenState};
use crate::domain::ConnectionId;
use crate::metrics::Metrics;
use crate::settings::HttpUrl;
use backon::{ExponentialBuilder, Retryable};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Tries of one request in all, when repeating it is allowed.
const TRIES: u32 = 4;
/// The longest `Retry-After` cutover waits for; past it the answer is "try later".
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// A loop guard for listings: integrator.io pages by 100 or 1,000 (its documents disagree).
const MAX_PAGES: usize = 1_000;
/// Requests per second, and the burst allowed: well under both documented limits
/// (30/s with a bucket of 100 in the old documents, 300/s with 1,000 in the new).
const RATE_PER_SECOND: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);
const BURST: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Reads, full replaces, deletes and pings: the same request twice does no harm.
    Safe,
    /// A create: only a 429 (refused before any work was done) is retried.
    OnlyIfRateLimited,
}

/// Up to `BURST` requests at once, then `RATE_PER_SECOND` (governor's GCRA); the wait
/// is slept on tokio's timer, like every other wait here. Waiters are not served in
/// order (each checks again when it wakes): the pace holds, which is what integrator.io
/// asks; cutover's requests come from one sync or a few people, so none waits long.
struct Throttle {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl Throttle {
    fn new() -> Self {
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::direct_with_clock(
                Quota::per_second(RATE_PER_SECOND).allow_burst(BURST),
                clock.clone(),
            ),
            clock,
        }
    }

    async fn acquire(&self) {
        while let Err(not_until) = self.limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
        }
    }
}

/// Why one try failed, and so whether another may follow.
#[derive(Debug)]
enum Failure {
    /// No answer: integrator.io could not be reached.
    Unreachable,
    /// An answer that broke off.
    BrokenOff,
    /// 429, refused before any work was done: wait this long first.
    RateLimited(Duration),
    /// 5xx.
    Server(StatusCode),
}

impl Failure {
    fn may_retry(&self, repeat: Repeat) -> bool {
        match self {
            Failure::RateLimited(wait) => *wait <= MAX_RETRY_AFTER,
            Failure::Unreachable | Failure::BrokenOff | Failure::Server(_) => {
                repeat == Repeat::Safe
            }
        }
    }

    fn into_error(self) -> CeligoError {
        match self {
            Failure::Unreachable | Failure::BrokenOff => CeligoError::Unavailable { status: None },
            Failure::RateLimited(wait) => CeligoError::RateLimited {
                retry_after: Some(wait.as_secs()),
            },
            Failure::Server(status) => CeligoError::Unavailable {
                status: Some(status.as_u16()),
            },
        }
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

pub struct CeligoClient {
    http: reqwest::Client,
    base: String,
    origin: url::Origin,
    token: SecretString,
    throttle: Throttle,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    /// Set once `POST …/ping` was answered 405 and a GET worked: then GET is used.
    ping_by_get: AtomicBool,
}

impl std::fmt::Debug for CeligoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CeligoClient({}, [redacted])", self.base)
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

impl CeligoClient {
    pub fn new(
        base: &HttpUrl,
        token: SecretString,
        timeout: Duration,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // The token must never follow a redirect to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let origin = url::Url::parse(base.as_str())?.origin();
        Ok(Self {
            http,
            base: base.as_str().to_owned(),
            origin,
            token,
            throttle: Throttle::new(),
            health,
            metrics,
            ping_by_get: AtomicBool::new(false),
        })
    }

    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    fn url(&self, path: &str) -> Result<url::Url, CeligoError> {
        url::Url::parse(&format!("{}/{path}", self.base))
            .map_err(|_| CeligoError::BadAnswer("an address cutover could not form"))
    }

    /// Sends one request, retrying as `repeat` allows (backon: 250 ms, 500 ms, 1 s, each
    /// with up to as much again at random; a 429 waits what its `Retry-After` says). `token_check`: whether the answer
    /// says something about the token (a ping's 401 may be Zoom's, not ours).
    async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
        repeat: Repeat,
        token_check: bool,
    ) -> Result<Answer, CeligoError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(TRIES as usize - 1);
        let sent = (|| self.try_once(&method, &url, body, token_check))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|failure| failure.may_retry(repeat))
            .adjust(|failure, planned| match (failure, planned) {
                (Failure::RateLimited(wait), Some(_)) => {
                    Some(*wait + Duration::from_millis(rand::random::<u64>() % 200))
                }
                (_, planned) => planned,
            })
            .notify(|failure, wait| {
                tracing::warn!(%method, path = url.path(), ?failure, wait_ms = wait.as_millis() as u64, "integrator.io did not answer as hoped; trying again");
            })
            .await;
        sent.map_err(|failure| {
            if matches!(failure, Failure::Unreachable) {
                self.health.set_token(TokenState::Unreachable);
            }
            failure.into_error()
        })
    }

    /// One try of a request.
    async fn try_once(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
        token_check: bool,
    ) -> Result<Answer, Failure> {
        self.throttle.acquire().await;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.token.expose_secret())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            self.metrics.celigo_request(None);
            tracing::warn!(%method, path = url.path(), error = %short(&e), "integrator.io request failed");
            Failure::Unreachable
        })?;
        let status = response.status();
        self.metrics.celigo_request(Some(status.as_u16()));
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            tracing::warn!(%method, path = url.path(), error = %short(&e), "integrator.io's answer broke off");
            Failure::BrokenOff
        })?;
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), "integrator.io answered");
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(&headers).unwrap_or(Duration::from_secs(1));
            tracing::info!(
                path = url.path(),
                wait_ms = wait.as_millis() as u64,
                "integrator.io asks to slow down"
            );
            return Err(Failure::RateLimited(wait));
        }
        if status.is_server_error() {
            return Err(Failure::Server(status));
        }
        if token_check {
            self.health.set_token(
                if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                    TokenState::Refused {
                        status: status.as_u16(),
                    }
                } else {
                    TokenState::Accepted
                },
            );
        }
        Ok(Answer {
            status,
            headers,
            body: body.to_vec(),
        })
    }

    /// A request whose success is a 2xx; anything else becomes its error.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Answer, CeligoError> {
        let answer = self
            .send(method, self.url(path)?, body, repeat, true)
            .await?;
        check(answer)
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Value, CeligoError> {
        let answer = self.call(method, path, body, repeat).await?;
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer.body).map_err(|_| CeligoError::BadAnswer("not JSON"))
    }

    /// `GET /tokenInfo`: does integrator.io accept the token?
    pub async fn token_info(&self) -> Result<(), CeligoError> {
        self.json(Method::GET, "tokenInfo", None, Repeat::Safe)
            .await
            .map(|_| ())
    }

    /// Every record of a listing, following `Link: rel="next"` (on integrator.io's own
    /// host only: the token goes nowhere else). `on_page` hears the count so far.
    pub async fn list_all(
        &self,
        path: &str,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<Value>, CeligoError> {
        let mut records = Vec::new();
        let mut next = Some(self.url(path)?);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(CeligoError::BadAnswer("more pages than any account has"));
            }
            let answer = check(
                self.send(Method::GET, url.clone(), None, Repeat::Safe, true)
                    .await?,
            )?;
            if answer.status == StatusCode::NO_CONTENT
                || answer.body.iter().all(u8::is_ascii_whitespace)
            {
                break;
            }
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(Value::Array(page)) => records.extend(page),
                _ => return Err(CeligoError::BadAnswer("a listing that is not an array")),
            }
            on_page(records.len());
            next = self.next_page(&url, &answer.headers)?;
        }
        Ok(records)
    }

    fn next_page(
        &self,
        current: &url::Url,
        headers: &HeaderMap,
    ) -> Result<Option<url::Url>, CeligoError> {
        let Some(link) = headers
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        let Some(next) = next_link(link) else {
            return Ok(None);
        };
        let url = current
            .join(next)
            .map_err(|_| CeligoError::BadAnswer("a next page address that does not parse"))?;
        if url.origin() != self.origin {
            return Err(CeligoError::BadAnswer("a next page on another host"));
        }
        Ok(Some(url))
    }

    pub async fn connection(&self, id: &ConnectionId) -> Result<Value, CeligoError> {
        self.json(
            Method::GET,
            &format!("connections/{id}"),
            None,
            Repeat::Safe,
        )
        .await
    }

    /// `PUT /connections/{id}`: a full replace, so the same request twice is harmless.
    pub async fn replace_connection(
        &self,
        id: &ConnectionId,
        body: &Value,
    ) -> Result<Value, CeligoError> {
        self.json(
            Method::PUT,
            &format!("connections/{id}"),
            Some(body),
            Repeat::Safe,
        )
        .await
    }

    /// `POST /iclients`, sent once (a 429 aside): its `_id`.
    pub async fn create_iclient(&self, body: &Value) -> Result<String, CeligoError> {
        let created = self
            .json(
                Method::POST,
                "iclients",
                Some(body),
                Repeat::OnlyIfRateLimited,
            )
            .await?;
        created
            .get("_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or(CeligoError::BadAnswer("a created iClient without an _id"))
    }

    /// The iClient named `name`, if one exists (iClient listings are not paged).
    pub async fn find_iclient_named(&self, name: &str) -> Result<Option<String>, CeligoError> {
        let all = self
            .json(Method::GET, "iclients", None, Repeat::Safe)
            .await?;
        Ok(all.as_array().and_then(|items| {
            items
                .iter()
                .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|i| i.get("_id").and_then(Value::as_str))
                .map(str::to_owned)
        }))
    }

    /// Whether anything uses the iClient. The shape of `dependencies` is not documented,
    /// so anything but nothing at all counts as "in use".
    pub async fn iclient_in_use(&self, id: &str) -> Result<bool, CeligoError> {
        match self
            .json(
                Method::GET,
                &format!("iclients/{id}/dependencies"),
                None,
                Repeat::Safe,
            )
            .await
        {
            Ok(dependencies) => Ok(!is_nothing(&dependencies)),
            Err(CeligoError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an iClient; one already gone is fine.
    pub async fn delete_iclient(&self, id: &str) -> Result<(), CeligoError> {
        match self
            .call(
                Method::DELETE,
                &format!("iclients/{id}"),
                None,
                Repeat::Safe,
            )
            .await
        {
            Ok(_) | Err(CeligoError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The address where a person authorizes the connection: `GET /connection/{id}/oauth2`
    /// (singular, as Celigo's UI and QA call it), the plural on 404; the key spelled
    /// `authorizationUrl` or `authorizationURL` (the sources disagree).
    pub async fn authorization_url(&self, id: &ConnectionId) -> Result<String, CeligoError> {
        let answer = match self
            .json(
                Method::GET,
                &format!("connection/{id}/oauth2"),
                None,
                Repeat::Safe,
            )
            .await
        {
            Err(CeligoError::NotFound) => {
                self.json(
                    Method::GET,
                    &format!("connections/{id}/oauth2"),
                    None,
                    Repeat::Safe,
                )
                .await?
            }
            other => other?,
        };
        answer
            .as_object()
            .and_then(|object| {
                object.iter().find_map(|(key, value)| {
                    let key = key.to_ascii_lowercase();
                    let named = matches!(
                        key.as_str(),
                        "authorizationurl"
                            | "authorisationurl"
                            | "authorizationuri"
                            | "authorisationuri"
                    );
                    named.then(|| value.as_str()).flatten()
                })
            })
            .map(str::to_owned)
            .ok_or(CeligoError::BadAnswer(
                "no authorization address in the answer",
            ))
    }

    /// Asks integrator.io to test the connection: `true` when it works. A 2xx carrying
    /// `errors`, or a 4xx, is a failed test (CELIGO.md §6). POST is what Celigo's UI and
    /// QA use; GET (what one page documents) only where POST is answered 405, and kept
    /// once it has worked. A 404 is a connection that is gone, whatever the method.
    pub async fn ping(&self, id: &ConnectionId) -> Result<bool, CeligoError> {
        let url = self.url(&format!("connections/{id}/ping"))?;
        let answer = if self.ping_by_get.load(Ordering::Relaxed) {
            self.send(Method::GET, url, None, Repeat::Safe, false)
                .await?
        } else {
            let posted = self
                .send(
                    Method::POST,
                    url.clone(),
                    Some(&json!({})),
                    Repeat::Safe,
                    false,
                )
                .await?;
            if posted.status == StatusCode::METHOD_NOT_ALLOWED {
                let got = self
                    .send(Method::GET, url, None, Repeat::Safe, false)
                    .await?;
                if !matches!(
                    got.status,
                    StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
                ) {
                    self.ping_by_get.store(true, Ordering::Relaxed);
                }
                got
            } else {
                posted
            }
        };
        if answer.status == StatusCode::NOT_FOUND {
            return Err(CeligoError::NotFound);
        }
        Ok(ping_worked(&answer))
    }
}

/// The target of `rel="next"` in an RFC 8288 `Link` header. Lenient on purpose: a
/// parameter without a value or a link without `rel` elsewhere in the header does not
/// stop a listing; commas inside `<…>` are part of the address.
fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_and_more = &after[close + 1..];
        let params = &params_and_more[..params_and_more.find('<').unwrap_or(params_and_more.len())];
        let is_next = params.split(';').any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim());
        }
        rest = params_and_more;
    }
    None
}

fn ping_worked(answer: &Answer) -> bool {
    if !answer.status.is_success() {
        return false;
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(object)) => match object.get("errors") {
            None | Some(Value::Null) => true,
            Some(Value::Array(errors)) => errors.is_empty(),
            Some(_) => false,
        },
        // An empty or non-object success carries no errors.
        _ => true,
    }
}

fn check(answer: Answer) -> Result<Answer, CeligoError> {
    match answer.status {
        s if s.is_success() => Ok(answer),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(CeligoError::TokenRefused {
            status: answer.status.as_u16(),
        }),
        StatusCode::NOT_FOUND => Err(CeligoError::NotFound),
        s => Err(CeligoError::Rejected {
            status: s.as_u16(),
            problem: Problem::from_body(&answer.body),
        }),
    }
}

/// Empty arrays and objects all the way down.
fn is_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().all(is_nothing),
        Value::Object(object) => object.values().all(is_nothing),
        _ => false,
    }
}

/// The innermost cause of a reqwest error, without its URL.
fn short(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_count_only_when_something_is_listed() {
        for nothing in [
            json!(null),
            json!([]),
            json!({}),
            json!({"connections": [], "flows": []}),
        ] {
            assert!(is_nothing(&nothing), "{nothing}");
        }
        for something in [
            json!({"connections": [{"_id": "x"}]}),
            json!(["x"]),
            json!({"count": 1}),
        ] {
            assert!(!is_nothing(&something), "{something}");
        }
    }

    #[test]
    fn the_next_page_is_found_however_the_header_is_written() {
        let documented = r#"<https://api.integrator.io/v1/integrations?skip=100&limit=1000>; rel="next",
        <https://api.integrator.io/v1/integrations?skip=0&limit=1000>;   rel="prev""#;
        assert_eq!(
            next_link(documented),
            Some("https://api.integrator.io/v1/integrations?skip=100&limit=1000")
        );
        assert_eq!(next_link(r#"</v1/c?a=1,2>; rel=next"#), Some("/v1/c?a=1,2"));
        assert_eq!(next_link(r#"<x>; title; rel="prev next""#), Some("x"));
        assert_eq!(next_link(r#"<a>; foo=bar, <b>; REL="Next""#), Some("b"));
        assert_eq!(next_link(r#"<a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unclosed; rel=next"), None);
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date: go now"
        );
        headers.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_ping_fails_on_errors_or_a_client_error() {
        let answer = |status: u16, body: &str| Answer {
            status: StatusCode::from_u16(status).expect("status"),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        assert!(ping_worked(&answer(200, "{}")));
        assert!(ping_worked(&answer(200, "")));
        assert!(ping_worked(&answer(200, r#"{"errors":[]}"#)));
        assert!(!ping_worked(&answer(
            200,
            r#"{"errors":[{"code":401,"message":"Invalid access token"}]}"#
        )));
        assert!(!ping_worked(&answer(401, r#"{"errors":[{"code":401}]}"#)));
        assert!(!ping_worked(&answer(422, "")));
    }
}
