//! Reminder posts, claimed before they are sent so each goes out exactly once, and the
//! scheduler's watermark per channel (the last instant a round there considered).

use super::{audit, AuditAction, Store, StoreError};
use crate::domain::Actor;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use std::collections::HashSet;

const NOTICE: &str = "reminders.notice";
const PAUSED: &str = "reminders.paused";

fn watermark_key(channel: &str) -> String {
    format!("reminders.watermark:{channel}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Milestone,
    Digest,
    CatchUp,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Milestone => "milestone",
            PostKind::Digest => "digest",
            PostKind::CatchUp => "catch-up",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Milestone, Self::Digest, Self::CatchUp]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// A post this process has claimed and must send (or give up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostClaim {
    pub key: String,
    pub channel: String,
    pub kind: PostKind,
    pub due_at: DateTime<Utc>,
    /// Who holds it (this process's name).
    pub by: String,
    /// 1 for a first claim; more when a stale claim was taken over.
    pub tries: i64,
}

const CLAIM_COLUMNS: &str = "key, channel_id, kind, due_at, claimed_by, tries";

fn claim_from_row(row: &SqliteRow) -> Result<PostClaim, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(PostClaim {
        key: row.try_get("key")?,
        channel: row.try_get("channel_id")?,
        kind: PostKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("reminder kind {kind:?}")))?,
        due_at: row.try_get("due_at")?,
        by: row.try_get("claimed_by")?,
        tries: row.try_get("tries")?,
    })
}

impl Store {
    /// The last instant a round considered for `channel`, if any round there ran.
    pub async fn reminder_watermark(
        &self,
        channel: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM bot_settings WHERE key = ?")
                .bind(watermark_key(channel))
                .fetch_optional(&self.pool)
                .await?;
        value
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| StoreError::Corrupt(format!("reminders watermark {v:?}")))
            })
            .transpose()
    }

    /// Moves `channel`'s watermark to `to`, never back (two instances may both run rounds).
    pub async fn advance_reminder_watermark(
        &self,
        channel: &str,
        to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // A fixed format, so that text order is time order.
        let text = to.to_rfc3339_opts(SecondsFormat::Micros, true);
        sqlx::query(
            "INSERT INTO bot_settings (key, value, updated_by, updated_at) VALUES (?1, ?2, 'cutover', ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
             WHERE excluded.value > bot_settings.value",
        )
        .bind(watermark_key(channel))
        .bind(&text)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The keys claimed for `channel` whose posts fall after `since`.
    pub async fn claimed_reminders(
        &self,
        channel: &str,
        since: DateTime<Utc>,
    ) -> Result<HashSet<String>, StoreError> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT key FROM reminder_posts WHERE channel_id = ? AND due_at > ?",
        )
        .bind(channel)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(keys.into_iter().collect())
    }

    /// Claims a post: `Some` for the one process that gets to send it.
    pub async fn claim_reminder(
        &self,
        key: &str,
        channel: &str,
        kind: PostKind,
        due_at: DateTime<Utc>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PostClaim>, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO reminder_posts (key, channel_id, kind, due_at, first_claimed_at, claimed_at, claimed_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT DO NOTHING RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(key)
        .bind(channel)
        .bind(kind.as_str())
        .bind(due_at)
        .bind(now)
        .bind(by)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(claim_from_row).transpose()
    }

    /// Records posts that a later post of the same round stands for (a milestone whose
    /// later sibling has fallen, a digest beside a milestone): claimed, so that no
    /// process sends them, and never sent. Those already claimed are left as they are.
    pub async fn supersede_reminders(
        &self,
        channel: &str,
        superseded: &[(String, PostKind, DateTime<Utc>)],
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if superseded.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (key, kind, due_at) in superseded {
            sqlx::query(
                "INSERT INTO reminder_posts (key, channel_id, kind, due_at, first_claimed_at, claimed_at, claimed_by, \
                 outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 'superseded') ON CONFLICT DO NOTHING",
            )
            .bind(key)
            .bind(channel)
            .bind(kind.as_str())
            .bind(due_at)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx).await
    }

    /// Claims the catch-up post and, in the same transaction, records the posts it names
    /// as missed, so they are never replayed.
    pub async fn claim_catch_up(
        &self,
        key: &str,
        channel: &str,
        missed: &[(String, DateTime<Utc>)],
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PostClaim>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO reminder_posts (key, channel_id, kind, due_at, first_claimed_at, claimed_at, claimed_by) \
             VALUES (?1, ?2, 'catch-up', ?3, ?3, ?3, ?4) ON CONFLICT DO NOTHING RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(key)
        .bind(channel)
        .bind(now)
        .bind(by)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        for (missed_key, due_at) in missed {
            // A claim left unsent too long is named here too: it becomes missed.
            sqlx::query(
                "INSERT INTO reminder_posts (key, channel_id, kind, due_at, first_claimed_at, claimed_at, claimed_by, \
                 sent_at, outcome) VALUES (?1, ?2, 'missed', ?3, ?4, ?4, ?5, ?4, 'missed') \
                 ON CONFLICT DO UPDATE SET outcome = 'missed', kind = 'missed', claimed_at = ?4, sent_at = ?4 \
                 WHERE outcome IS NULL",
            )
            .bind(missed_key)
            .bind(channel)
            .bind(due_at)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        let claim = claim_from_row(&row)?;
        self.commit(tx).await?;
        Ok(Some(claim))
    }

    /// The posts a catch-up named as missed (recorded with it, at its instant).
    pub async fn missed_with(
        &self,
        catch_up: &PostClaim,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT key, due_at FROM reminder_posts WHERE channel_id = ? AND kind = 'missed' AND claimed_at = ? \
             ORDER BY due_at",
        )
        .bind(&catch_up.channel)
        .bind(catch_up.due_at)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes over claims of `channel` left unsent longer than `lease` (their process
    /// stopped) but first claimed within `resend_window`: Discord still knows their nonce,
    /// so sending again cannot make a second message. Older ones are returned apart, to be
    /// named as missed: whether they went out cannot be known any more.
    pub async fn take_over_stale_reminders(
        &self,
        channel: &str,
        lease: TimeDelta,
        resend_window: TimeDelta,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<PostClaim>, Vec<(String, DateTime<Utc>)>), StoreError> {
        let rows = sqlx::query(&format!(
            "UPDATE reminder_posts SET claimed_at = ?1, claimed_by = ?2, tries = tries + 1 \
             WHERE channel_id = ?3 AND outcome IS NULL AND claimed_at <= ?4 AND first_claimed_at > ?5 \
             RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(now)
        .bind(by)
        .bind(channel)
        .bind(now - lease)
        .bind(now - resend_window)
        .fetch_all(&self.pool)
        .await?;
        let taken = rows.iter().map(claim_from_row).collect::<Result<_, _>>()?;
        let too_old: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT key, due_at FROM reminder_posts \
             WHERE channel_id = ? AND outcome IS NULL AND claimed_at <= ? AND first_claimed_at <= ? ORDER BY due_at",
        )
        .bind(channel)
        .bind(now - lease)
        .bind(now - resend_window)
        .fetch_all(&self.pool)
        .await?;
        Ok((taken, too_old))
    }

    /// Renews this process's claim before a try: `false` when another process took it
    /// over meanwhile (this one must then not send).
    pub async fn renew_reminder_claim(
        &self,
        claim: &PostClaim,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE reminder_posts SET claimed_at = ? \
             WHERE key = ? AND channel_id = ? AND claimed_by = ? AND outcome IS NULL",
        )
        .bind(now)
        .bind(&claim.key)
        .bind(&claim.channel)
        .bind(&claim.by)
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0)
    }

    pub async fn mark_reminder_sent(
        &self,
        claim: &PostClaim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reminder_posts SET sent_at = ?, message_id = ?, outcome = 'sent' \
             WHERE key = ? AND channel_id = ? AND outcome IS NULL",
        )
        .bind(now)
        .bind(message_id)
        .bind(&claim.key)
        .bind(&claim.channel)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The post will not go out (Discord refused it for good, or it can no longer be
    /// said). When the channel itself is the problem (gone, or no permission), reminders
    /// are paused and the next admin is told; the audit log keeps it. One transaction.
    pub async fn fail_reminder(
        &self,
        claim: &PostClaim,
        problem: &str,
        pause: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let closed = sqlx::query(
            "UPDATE reminder_posts SET outcome = 'failed' \
             WHERE key = ? AND channel_id = ? AND claimed_by = ? AND outcome IS NULL",
        )
        .bind(&claim.key)
        .bind(&claim.channel)
        .bind(&claim.by)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 0 {
            return Ok(());
        }
        if pause {
            for (key, value) in [(PAUSED, "true"), (NOTICE, problem)] {
                sqlx::query(
                    "INSERT INTO bot_settings (key, value, updated_by, updated_at) VALUES (?, ?, 'cutover', ?) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
                     updated_at = excluded.updated_at",
                )
                .bind(key)
                .bind(value)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        let action = if pause {
            AuditAction::RemindersPausedOnError
        } else {
            AuditAction::ReminderFailed
        };
        audit::record(
            &mut tx,
            now,
            Actor::System,
            action,
            None,
            &format!("{}: {problem}", claim.key),
        )
        .await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Whether something went wrong with reminders that no admin has been told yet.
    pub async fn has_reminder_notice(&self) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM bot_settings WHERE key = ?")
                .bind(NOTICE)
                .fetch_one(&self.pool)
                .await?
                > 0,
        )
    }

    /// What went wrong with reminders that no admin has been told yet; reading it tells.
    pub async fn take_reminder_notice(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("DELETE FROM bot_settings WHERE key = ? RETURNING value")
                .bind(NOTICE)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
