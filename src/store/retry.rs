//! A write that keeps something Zoom has just issued is tried again before cutover gives
//! up on it: a busy database (another process writing for over the busy timeout) or a
//! passing I/O error must not cost a live grant.

use super::StoreError;
use backon::{ExponentialBuilder, Retryable};
use std::future::Future;
use std::time::Duration;

/// Tries after the first, and the pause before the first of them (then doubled). A
/// busy database already waited 5 seconds for each try: three tries in all keep a
/// person's page under 20 seconds.
const RETRIES: usize = 2;
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// Runs `write` until it succeeds or has been tried `1 + RETRIES` times; `what` names it
/// in the log.
pub async fn retried<T, F, Fut>(what: &str, write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    write
        .retry(
            ExponentialBuilder::new()
                .with_min_delay(FIRST_PAUSE)
                .with_max_times(RETRIES),
        )
        .notify(|error: &StoreError, pause: Duration| {
            tracing::warn!(error = %error, ?pause, "{what} failed; retrying");
        })
        .await
}
