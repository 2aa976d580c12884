//! A refresh's claim on a token set never outlives the refresh: `cutover rekey` (which
//! waits while a refresh is under way) is never held off by a refresh that is over, or by
//! one whose round died long ago.

use crate::cli_rekey::{rekey, security};
use crate::fake_zoom::{TokenMode, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::SEALING_KEY;
use crate::revocation::switch_z1;
use chrono::{TimeDelta, Utc};
use cutover::domain::ConnectionState;
use cutover::switch::Sealer;

/// Stops the program and runs `cutover rekey` on its database, from the key in use to a
/// new one: whether it went through, and what it said on stderr.
async fn rekey_after_stop(w: World) -> (bool, String) {
    let mut stopped = w.stop().await;
    let new_key = stopped.dir.write("new.key", &Sealer::generate_key());
    stopped.security = security(&new_key, None);
    let config = stopped.config();
    let (ok, _, err) = rekey(&stopped.dir, &config, Some(SEALING_KEY)).await;
    (ok, err)
}

#[tokio::test]
async fn a_refresh_zoom_refuses_gives_its_claim_back_and_rekey_goes_through() {
    let w = World::start().await;
    switch_z1(&w, "990", (CLIENT_ID, CLIENT_SECRET)).await;
    // The owner removed the app in Zoom's Marketplace.
    w.zoom.revoke_refresh_tokens();
    // rekey reads the system clock: claimed now, the claim would be live for it.
    w.app.clock.set(Utc::now());
    let report = w.app.switch.refresh_due().await.expect("round");
    assert_eq!(report.needs_reauthorization, 1, "{report:?}");
    assert_eq!(
        w.state_of("z1").await,
        ConnectionState::NeedsReauthorization
    );

    let (ok, err) = rekey_after_stop(w).await;
    assert!(ok, "the refused refresh still holds its claim: {err}");
}

#[tokio::test]
async fn a_claim_left_by_a_round_that_died_an_hour_ago_does_not_hold_off_rekey() {
    let w = World::start().await;
    switch_z1(&w, "991", (CLIENT_ID, CLIENT_SECRET)).await;
    // An hour ago a round claimed z1 and sent the refresh, then died before Zoom
    // answered: its five-minute claim stays in the database, long lapsed.
    w.zoom.set_token_mode(TokenMode::Held);
    w.app.clock.set(Utc::now() - TimeDelta::hours(1));
    let switch = std::sync::Arc::clone(&w.app.switch);
    let round = tokio::spawn(async move { switch.refresh_due().await });
    w.zoom.token_request_arrived().await;
    round.abort();
    assert!(round.await.is_err_and(|e| e.is_cancelled()));

    let (ok, err) = rekey_after_stop(w).await;
    assert!(
        ok,
        "a lapsed claim was counted as a refresh under way: {err}"
    );
}
