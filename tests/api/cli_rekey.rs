//! `cutover rekey`: every stored secret re-sealed under a new key, all or nothing, with a
//! cutover that opens both keys meanwhile. Checked through what the secrets are for: a
//! link issued before still completes, tokens stored before still refresh.

use crate::fake_discord as discord;
use crate::fake_zoom::{TokenMode, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::World;
use crate::helpers::{at, authorize_link, TestDir, NOW, OWNER, SEALING_KEY};
use crate::revocation::{remove, switch, switch_z1};
use chrono::TimeDelta;
use cutover::store::AuditAction;
use cutover::switch::Sealer;
use std::path::Path;

/// Every sealed value at rest: (table, row, column, bytes), in a fixed order.
async fn sealed_at_rest(dir: &TestDir) -> Vec<(String, String, String, Vec<u8>)> {
    use sqlx::{Connection, Row};
    let mut db = sqlx::SqliteConnection::connect(&dir.db_url())
        .await
        .expect("open the database");
    let mut found = Vec::new();
    for (table, key, columns) in [
        (
            "migration_attempts",
            "id",
            [
                "client_secret_sealed",
                "pkce_verifier_sealed",
                "reply_token_sealed",
            ],
        ),
        (
            "oauth_tokens",
            "connection_id",
            [
                "client_secret_sealed",
                "access_token_sealed",
                "refresh_token_sealed",
            ],
        ),
        (
            "token_revocations",
            "id",
            [
                "client_secret_sealed",
                "access_token_sealed",
                "refresh_token_sealed",
            ],
        ),
    ] {
        let sql = format!(
            "SELECT CAST({key} AS TEXT) AS k, {} FROM {table} ORDER BY {key}",
            columns.join(", ")
        );
        for row in sqlx::query(&sql).fetch_all(&mut db).await.expect("read") {
            for column in columns {
                if let Some(bytes) = row.get::<Option<Vec<u8>>, _>(column) {
                    found.push((table.to_owned(), row.get("k"), column.to_owned(), bytes));
                }
            }
        }
    }
    found
}

pub fn security(new_key: &Path, previous_key: Option<&Path>) -> String {
    let mut section = format!("[security]\nsealing_key_file = \"{}\"\n", new_key.display());
    if let Some(previous) = previous_key {
        section.push_str(&format!(
            "previous_sealing_key_file = \"{}\"\n",
            previous.display()
        ));
    }
    section
}

/// Moves the clock to just before the tokens expire and lets the token scheduler run a
/// round: the connections whose tokens it refreshed (none refused).
async fn refreshed_before_expiry(w: &World) -> Vec<String> {
    w.app.clock.set(at(NOW) + TimeDelta::minutes(55));
    w.app.switch.heartbeat().tick().await;
    let entries = w.app.store.audit_entries(None, 50).await.expect("audit");
    assert!(
        !entries
            .iter()
            .any(|e| e.action == AuditAction::TokenRefreshFailed),
        "{entries:#?}"
    );
    let mut refreshed: Vec<String> = entries
        .into_iter()
        .filter(|e| e.action == AuditAction::TokenRefreshed)
        .filter_map(|e| e.connection_id)
        .collect();
    refreshed.sort();
    refreshed
}

pub async fn rekey(dir: &TestDir, config: &Path, previous: Option<&str>) -> (bool, String, String) {
    let mut command = dir.cutover();
    command.arg("--config").arg(config).arg("rekey");
    if let Some(key) = previous {
        command.env("CUTOVER__SECURITY__PREVIOUS_SEALING_KEY", key);
    }
    let out = command.output().await.expect("run cutover rekey");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issues a link for z2 (client secret, verifier and Discord's reply token sealed).
async fn link_for_z2(w: &World, interaction: &str) -> String {
    let answer = w
        .send(discord::modal_submit(
            interaction,
            "c1:mf:z2",
            &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            OWNER,
        ))
        .await;
    authorize_link(&answer["data"])
}

#[tokio::test]
async fn rekey_reseals_everything_or_nothing_and_the_secrets_still_serve() {
    let w = World::start().await;
    switch_z1(&w, "980", (CLIENT_ID, CLIENT_SECRET)).await;
    let link = link_for_z2(&w, "981").await;
    let old_key = SEALING_KEY;
    let mut stopped = w.stop().await;
    let before = sealed_at_rest(&stopped.dir).await;
    // z1's tokens (3) and attempt (3), z2's attempt (3).
    assert_eq!(before.len(), 9, "{before:?}");

    let new_key = Sealer::generate_key();
    let new_key_file = stopped.dir.write("new.key", &new_key);
    stopped.security = security(&new_key_file, None);
    let config = stopped.config();

    // Without the previous key: what to give, and nothing changed.
    let (ok, _, err) = rekey(&stopped.dir, &config, None).await;
    assert!(!ok);
    assert!(
        err.contains("cutover rekey needs two keys")
            && err.contains("CUTOVER__SECURITY__PREVIOUS_SEALING_KEY")
            && err.contains("Nothing was changed"),
        "{err}"
    );
    // A wrong previous key: refused, nothing changed.
    let wrong = Sealer::generate_key();
    let (ok, _, err) = rekey(&stopped.dir, &config, Some(&wrong)).await;
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "error: 9 stored secrets open with neither the new key nor the previous one: \
         security.previous_sealing_key is not the key they were sealed under. Nothing was changed; \
         give the key cutover used until now"
    );
    assert_eq!(sealed_at_rest(&stopped.dir).await, before);
    for key in [&new_key, &wrong, &old_key.to_owned()] {
        assert!(!err.contains(key.as_str()));
    }

    // The right one: every value re-sealed, in place.
    let (ok, out, err) = rekey(&stopped.dir, &config, Some(old_key)).await;
    assert!(ok, "{err}");
    assert!(
        out.starts_with(
            "Re-sealed 9 stored secrets under the new sealing key (0 already under it); \
             0 sessions of the campaign page ended.\n"
        ),
        "{out}"
    );
    assert!(!out.contains(&new_key) && !out.contains(old_key));
    let after = sealed_at_rest(&stopped.dir).await;
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        assert_eq!((&old.0, &old.1, &old.2), (&new.0, &new.1, &new.2));
        assert_ne!(old.3, new.3, "{} {} {} re-sealed", old.0, old.1, old.2);
    }
    // Again: nothing left to do.
    let (ok, out, _) = rekey(&stopped.dir, &config, Some(old_key)).await;
    assert!(ok);
    assert!(
        out.starts_with(
            "Re-sealed 0 stored secrets under the new sealing key (9 already under it);"
        ),
        "{out}"
    );

    // With the new key alone, the link issued before completes and old tokens refresh.
    let w = stopped.start(NOW).await;
    let back = w.follow(&link).await;
    let (status, page, _) = w.callback(&back).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(refreshed_before_expiry(&w).await, ["z1", "z2"]);
    let entries = w.app.store.audit_entries(None, 50).await.expect("audit");
    assert!(entries
        .iter()
        .any(|e| e.action == AuditAction::SecurityRekeyed
            && e.actor == cutover::domain::Actor::CommandLine
            && e.detail == "9 secrets re-sealed under the new sealing key, 0 already under it"));
}

#[tokio::test]
async fn a_running_cutover_with_both_keys_keeps_working_while_rekey_runs_beside_it() {
    let w = World::start().await;
    let link = link_for_z2(&w, "982").await;
    let mut stopped = w.stop().await;
    let old_key_file = stopped.dir.write("old.key", SEALING_KEY);
    let new_key_file = stopped.dir.write("new.key", &Sealer::generate_key());
    stopped.security = security(&new_key_file, Some(&old_key_file));
    let config = stopped.config();

    let check = stopped
        .dir
        .cutover()
        .arg("--config")
        .arg(&config)
        .arg("check-config")
        .output()
        .await
        .expect("check-config");
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{err}");
    assert!(
        err.contains("warning: security.previous_sealing_key is set: secrets sealed under it are still opened. \
                      Run `cutover rekey`"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("previous_sealing_key = \"[redacted]\"")
    );

    // Restarted with the new key and the old: what the old key sealed still opens.
    let w = stopped.start(NOW).await;
    let back = w.follow(&link).await;
    assert_eq!(w.callback(&back).await.0, 200);
    // Re-sealed while it runs; then it runs on the new key alone.
    let (ok, out, err) = rekey(&w.app.dir, &config, None).await;
    assert!(ok, "{err}");
    assert!(out.contains("already under it"), "{out}");
    let mut stopped = w.stop().await;
    stopped.security = security(&new_key_file, None);
    let w = stopped.start(NOW).await;
    assert_eq!(refreshed_before_expiry(&w).await, ["z2"]);
}

#[tokio::test]
async fn rekey_covers_tokens_waiting_for_revocation_and_waits_for_a_refresh_under_way() {
    let w = World::start().await;
    let (old_access, _) = switch_z1(&w, "983", (CLIENT_ID, CLIENT_SECRET)).await;
    // z1 removed while Zoom cannot revoke: its tokens wait in the queue, sealed.
    w.zoom.set_revoke_mode(TokenMode::ServerError);
    remove(&w, "984", "z1").await;
    w.app.switch.heartbeat().tick().await;
    w.zoom.sign_in_as("zoomuser2");
    switch(&w, "z2", "985", (CLIENT_ID, CLIENT_SECRET)).await;
    let queued = sealed_at_rest(&w.app.dir)
        .await
        .into_iter()
        .filter(|(table, ..)| table == "token_revocations")
        .count();
    assert_eq!(queued, 3, "client secret, access and refresh token");

    // A refresh of z2 is under way (held at Zoom): rekey, run beside the bot, waits.
    let new_key_file = w.app.dir.write("new.key", &Sealer::generate_key());
    let old_key_file = w.app.dir.write("old.key", SEALING_KEY);
    let config = w
        .app
        .dir
        .config(&security(&new_key_file, Some(&old_key_file)));
    w.zoom.set_token_mode(TokenMode::Held);
    // rekey reads the system clock: the refresh is claimed now, so its claim is live
    // for rekey too.
    w.app.clock.set(chrono::Utc::now());
    let switch_task = std::sync::Arc::clone(&w.app.switch);
    let refreshing = tokio::spawn(async move { switch_task.refresh_due().await });
    w.zoom.token_request_arrived().await;
    let before = sealed_at_rest(&w.app.dir).await;
    let (ok, _, err) = rekey(&w.app.dir, &config, None).await;
    assert!(!ok);
    assert_eq!(
        err.trim_end(),
        "error: a token refresh is under way (1 connection): run cutover rekey again in a few minutes. \
         Nothing was changed"
    );
    assert_eq!(sealed_at_rest(&w.app.dir).await, before);
    w.zoom.release_token_request();
    let report = refreshing.await.expect("joined").expect("round");
    assert_eq!(report.refreshed, 1, "{report:?}");

    // Then it goes through, the queued tokens included.
    let (ok, out, err) = rekey(&w.app.dir, &config, None).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("Re-sealed "), "{out}");
    let mut stopped = w.stop().await;
    stopped.security = security(&new_key_file, None);
    let w = stopped.start("2025-11-21T14:00:00Z").await;
    w.zoom.set_token_mode(TokenMode::Normal);
    w.zoom.set_revoke_mode(TokenMode::Normal);
    w.app.switch.heartbeat().tick().await;
    let revoked: Vec<String> = w
        .zoom
        .revoke_requests()
        .iter()
        .filter_map(|r| r.form.get("token").cloned())
        .collect();
    assert_eq!(
        revoked.last(),
        Some(&old_access),
        "opened under the new key"
    );
    assert!(!w.zoom.accepts(&old_access));
    let entries = w.app.store.audit_entries(None, 50).await.expect("audit");
    assert!(entries
        .iter()
        .any(|e| e.action == AuditAction::TokenRevoked));
    assert!(!entries
        .iter()
        .any(|e| e.action == AuditAction::TokenRefreshFailed));
}
