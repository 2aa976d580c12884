use super::{audit, AuditAction, Store, StoreError};
use crate::domain::{Actor, Snowflake};
use chrono::{DateTime, Utc};

const REMINDERS_CHANNEL: &str = "reminders.channel_id";
const REMINDERS_PAUSED: &str = "reminders.paused";

/// What admins set for reminders from chat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderState {
    /// Set from chat; when `None`, `reminders.channel_id` from the configuration applies.
    pub channel: Option<Snowflake>,
    pub paused: bool,
}

impl Store {
    pub async fn reminder_state(&self) -> Result<ReminderState, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM bot_settings WHERE key IN (?, ?)")
                .bind(REMINDERS_CHANNEL)
                .bind(REMINDERS_PAUSED)
                .fetch_all(&self.pool)
                .await?;
        let mut state = ReminderState::default();
        for (key, value) in rows {
            match key.as_str() {
                REMINDERS_CHANNEL => {
                    state.channel =
                        Some(Snowflake::parse(&value).map_err(|_| {
                            StoreError::Corrupt(format!("reminders channel {value:?}"))
                        })?)
                }
                _ => state.paused = value == "true",
            }
        }
        Ok(state)
    }

    pub async fn set_reminders_channel(
        &self,
        channel: Snowflake,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set(
            REMINDERS_CHANNEL,
            &channel.to_string(),
            actor,
            now,
            AuditAction::RemindersChannelSet,
        )
        .await
    }

    pub async fn set_reminders_paused(
        &self,
        paused: bool,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let action = if paused {
            AuditAction::RemindersPaused
        } else {
            AuditAction::RemindersResumed
        };
        self.set(
            REMINDERS_PAUSED,
            if paused { "true" } else { "false" },
            actor,
            now,
            action,
        )
        .await
    }

    async fn set(
        &self,
        key: &str,
        value: &str,
        actor: Actor,
        now: DateTime<Utc>,
        action: AuditAction,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO bot_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(actor.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, now, actor, action, None, value).await?;
        self.commit(tx).await?;
        Ok(())
    }
}
