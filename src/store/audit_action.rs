//! What an audit log line records. Stored as text (`connection.remove`, …): those strings
//! are in every database cutover has written, so they never change.

use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Type};
use std::fmt;
use std::str::FromStr;

/// What happened, one variant per kind of audit line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// An admin added one connection from chat (the detail is its name).
    ConnectionAdded,
    /// An admin gave a connection its owner; others' live links on it ended.
    ConnectionAssigned,
    /// An admin removed a connection: its row is deleted, its Zoom tokens retired.
    /// Not [`AuditAction::ConnectionGone`], where a sync keeps the row.
    ConnectionDeleted,
    /// A sync found a connection gone from integrator.io: kept, marked removed, its
    /// Zoom tokens retired.
    ConnectionGone,
    /// A sync found a connection marked removed listed by integrator.io again.
    ConnectionRestored,
    /// A sync moved a connection to another state on integrator.io's word, without it
    /// being switched there (that is [`AuditAction::MigrationSwitchedElsewhere`]).
    ConnectionStateChanged,
    /// An inventory file was imported; the detail counts what changed.
    ConnectionsImported,
    /// A sync from integrator.io was applied; the detail counts what changed.
    ConnectionsSynced,
    /// An authorization link was issued for a connection.
    MigrationLinkIssued,
    /// The integrator.io backend put the connection on OAuth 2.0 with a new iClient,
    /// awaiting authorization.
    MigrationPrepared,
    /// The connection's integrator.io definition as it was before it was prepared (the
    /// detail holds it whole, to put back by hand; too long to show in chat).
    CeligoDefinitionBefore,
    /// A switch completed: the connection is on OAuth 2.0 with a working token.
    MigrationSwitched,
    /// integrator.io has the connection on OAuth 2.0, authorized, switched there outside
    /// cutover (found by a sync, or by a fresh read before preparing it).
    MigrationSwitchedElsewhere,
    /// A live link or switch ended without switching the connection.
    MigrationFailed,
    /// Someone's live link ended because the connection was given to another owner.
    MigrationVoided,
    /// cutover refreshed a connection's Zoom tokens.
    TokenRefreshed,
    /// A connection's refresh token stopped working: its owner must authorize again.
    TokenRefreshFailed,
    /// A Zoom token set cutover will not keep joined the revocation queue.
    TokenRevocationQueued,
    /// Zoom revoked a queued token set.
    TokenRevoked,
    /// A token set was dropped, not revoked: revoking it would end a grant still in use
    /// (the same Zoom app and user as a newer authorization or another connection).
    TokenDropped,
    /// cutover gave up revoking a queued token set; the detail says what to do.
    TokenRevokeFailed,
    /// `cutover rekey` re-sealed the secrets at rest under a new sealing key.
    SecurityRekeyed,
    /// An admin added a deadline.
    DeadlineAdded,
    /// An admin removed a deadline.
    DeadlineRemoved,
    /// An admin chose the channel reminders are posted in.
    RemindersChannelSet,
    /// An admin paused reminders.
    RemindersPaused,
    /// An admin resumed reminders.
    RemindersResumed,
    /// A reminder could not be posted because of its channel (gone, or no permission):
    /// cutover paused reminders and tells the next admin.
    RemindersPausedOnError,
    /// A reminder will not be posted (Discord refused it for good); reminders go on.
    ReminderFailed,
}

use AuditAction::*;

impl AuditAction {
    /// Every action, which is how the stored text is read back.
    const ALL: [AuditAction; 29] = [
        ConnectionAdded,
        ConnectionAssigned,
        ConnectionDeleted,
        ConnectionGone,
        ConnectionRestored,
        ConnectionStateChanged,
        ConnectionsImported,
        ConnectionsSynced,
        MigrationLinkIssued,
        MigrationPrepared,
        CeligoDefinitionBefore,
        MigrationSwitched,
        MigrationSwitchedElsewhere,
        MigrationFailed,
        MigrationVoided,
        TokenRefreshed,
        TokenRefreshFailed,
        TokenRevocationQueued,
        TokenRevoked,
        TokenDropped,
        TokenRevokeFailed,
        SecurityRekeyed,
        DeadlineAdded,
        DeadlineRemoved,
        RemindersChannelSet,
        RemindersPaused,
        RemindersResumed,
        RemindersPausedOnError,
        ReminderFailed,
    ];

    /// The text stored in `audit_log.action` (and shown in chat).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionAdded => "connection.add",
            ConnectionAssigned => "connection.assign",
            ConnectionDeleted => "connection.remove",
            ConnectionGone => "connection.removed",
            ConnectionRestored => "connection.restored",
            ConnectionStateChanged => "connection.state",
            ConnectionsImported => "connections.import",
            ConnectionsSynced => "connections.sync",
            MigrationLinkIssued => "migration.link",
            MigrationPrepared => "migration.prepared",
            CeligoDefinitionBefore => "celigo.definition_before",
            MigrationSwitched => "migration.switched",
            MigrationSwitchedElsewhere => "migration.switched_elsewhere",
            MigrationFailed => "migration.failed",
            MigrationVoided => "migration.voided",
            TokenRefreshed => "token.refreshed",
            TokenRefreshFailed => "token.refresh_failed",
            TokenRevocationQueued => "token.revocation_queued",
            TokenRevoked => "token.revoked",
            TokenDropped => "token.dropped",
            TokenRevokeFailed => "token.revoke_failed",
            SecurityRekeyed => "security.rekeyed",
            DeadlineAdded => "deadline.add",
            DeadlineRemoved => "deadline.remove",
            RemindersChannelSet => "reminders.channel",
            RemindersPaused => "reminders.pause",
            RemindersResumed => "reminders.resume",
            RemindersPausedOnError => "reminders.paused_on_error",
            ReminderFailed => "reminders.failed",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored text that is no action this cutover writes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not an audit action this cutover records (written by a newer cutover, or by hand?)"
)]
pub struct UnknownAuditAction(String);

impl FromStr for AuditAction {
    type Err = UnknownAuditAction;

    /// The texts [`AuditAction::as_str`] gives, and only those. Unknown text is an error
    /// rather than a catch-all variant: only cutover writes this column, so it means a
    /// newer cutover or a hand edit wrote the row, and a reader (chat, the campaign page)
    /// would otherwise show people a name nobody chose; the error names the text instead.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == raw)
            .ok_or_else(|| UnknownAuditAction(raw.chars().take(40).collect()))
    }
}

impl Type<Sqlite> for AuditAction {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for AuditAction {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(text.parse::<AuditAction>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored texts, written out again: changing one would leave the rows already in
    /// databases unreadable, so a change here needs a migration of the old rows.
    fn stored(action: AuditAction) -> &'static str {
        // No wildcard: a new action does not compile until it is named here (and in ALL).
        match action {
            ConnectionAdded => "connection.add",
            ConnectionAssigned => "connection.assign",
            ConnectionDeleted => "connection.remove",
            ConnectionGone => "connection.removed",
            ConnectionRestored => "connection.restored",
            ConnectionStateChanged => "connection.state",
            ConnectionsImported => "connections.import",
            ConnectionsSynced => "connections.sync",
            MigrationLinkIssued => "migration.link",
            MigrationPrepared => "migration.prepared",
            CeligoDefinitionBefore => "celigo.definition_before",
            MigrationSwitched => "migration.switched",
            MigrationSwitchedElsewhere => "migration.switched_elsewhere",
            MigrationFailed => "migration.failed",
            MigrationVoided => "migration.voided",
            TokenRefreshed => "token.refreshed",
            TokenRefreshFailed => "token.refresh_failed",
            TokenRevocationQueued => "token.revocation_queued",
            TokenRevoked => "token.revoked",
            TokenDropped => "token.dropped",
            TokenRevokeFailed => "token.revoke_failed",
            SecurityRekeyed => "security.rekeyed",
            DeadlineAdded => "deadline.add",
            DeadlineRemoved => "deadline.remove",
            RemindersChannelSet => "reminders.channel",
            RemindersPaused => "reminders.pause",
            RemindersResumed => "reminders.resume",
            RemindersPausedOnError => "reminders.paused_on_error",
            ReminderFailed => "reminders.failed",
        }
    }

    #[test]
    fn every_action_is_stored_as_before_and_reads_back() {
        let mut texts: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for action in AuditAction::ALL {
            assert_eq!(action.as_str(), stored(action));
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
        }
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), AuditAction::ALL.len(), "one text per action");
    }

    #[test]
    fn other_text_is_refused_by_name() {
        for bad in [
            "",
            "connection",
            "Connection.add",
            "connection.add ",
            "token.expired",
        ] {
            let error = bad.parse::<AuditAction>().expect_err(bad);
            assert!(
                error.to_string().starts_with(&format!("{bad:?}")),
                "{error}"
            );
        }
    }
}
