//! `/migrate`: the private form that collects a Zoom OAuth app's credentials.

use super::{
    Button, ButtonTarget, Caller, ChatCore, ChatError, Choice, ComponentId, Message, Modal, Reply,
    ReplyHandle, TextInput,
};
use crate::domain::{Actor, Backend, Connection, ConnectionId, ConnectionState};
use crate::markdown::{escape, truncate};
use crate::switch::celigo::PrepareError;
use crate::switch::{
    parse_client_secret, IssueError, Started, ZoomClientId, FINISH_IN_INTEGRATOR_IO,
};

pub const CLIENT_ID_INPUT: &str = "client_id";
pub const CLIENT_SECRET_INPUT: &str = "client_secret";

impl ChatCore {
    /// The connection a person named, or a plain answer that there is none.
    pub(super) async fn named_connection(&self, raw_id: &str) -> Result<Connection, ChatError> {
        let not_found = || {
            ChatError::NotFound(format!(
                "There is no connection with id `{}`. /connections lists them with their ids.",
                escape(&truncate(raw_id, 64))
            ))
        };
        let id = ConnectionId::parse(raw_id).map_err(|_| not_found())?;
        self.store.get_connection(&id).await?.ok_or_else(not_found)
    }

    /// The connection, if the caller may migrate it: its owner, or an admin.
    async fn migratable(&self, caller: Caller, raw_id: &str) -> Result<Connection, ChatError> {
        let connection = self.named_connection(raw_id).await?;
        let is_owner = caller.user_id().is_some() && caller.user_id() == connection.owner;
        if !(is_owner || caller.is_admin) {
            let owner = connection.owner.map_or_else(
                || "it has no owner yet; an admin can assign one".to_owned(),
                |o| format!("it belongs to {}", o.mention()),
            );
            return Err(ChatError::NotAllowed(format!(
                "You cannot switch `{}`: {owner}. Only its owner or an admin can.",
                connection.id
            )));
        }
        if let Some(at) = connection.removed_at {
            return Err(ChatError::Refused(format!(
                "`{}` is no longer in integrator.io (a sync found it gone <t:{}:R>), so there is nothing to switch.",
                connection.id,
                at.timestamp()
            )));
        }
        if connection.state == ConnectionState::Migrated {
            let by = connection.migrated_by.as_deref().unwrap_or("someone");
            let when = connection
                .migrated_at
                .map(|t| format!(" <t:{}:R>", t.timestamp()))
                .unwrap_or_default();
            return Err(ChatError::Refused(format!(
                "`{}` is already on OAuth 2.0 (switched by {}{when}). Nothing to do.",
                connection.id,
                escape(by)
            )));
        }
        Ok(connection)
    }

    /// The private form for one connection the caller may switch.
    pub(super) async fn migrate_form(
        &self,
        caller: Caller,
        raw_id: &str,
    ) -> Result<Reply, ChatError> {
        let connection = self.migratable(caller, raw_id).await?;
        // Refused before the form: nobody should type a secret only to be told no.
        self.backends
            .ready_for(&connection)
            .map_err(|e| issue_error(e, &connection.id))?;
        Ok(Reply::Modal(Modal {
            id: ComponentId::MigrateForm {
                connection: connection.id.clone(),
            },
            // Discord allows 45 characters in a modal title.
            title: truncate(&format!("Switch {} to OAuth", connection.name), 45),
            notice: "Discord does not mask what you type here; only you can see this form."
                .to_owned(),
            inputs: vec![
                TextInput {
                    id: CLIENT_ID_INPUT,
                    label: "Zoom OAuth client ID".to_owned(),
                    placeholder: "From your Zoom OAuth app: App Credentials > Client ID".to_owned(),
                    min_length: 8,
                    max_length: 64,
                    secret: false,
                },
                TextInput {
                    id: CLIENT_SECRET_INPUT,
                    label: "Zoom OAuth client secret".to_owned(),
                    placeholder: "App Credentials > Client Secret (kept sealed, never shown)"
                        .to_owned(),
                    min_length: 8,
                    max_length: 128,
                    secret: true,
                },
            ],
        }))
    }

    /// Connections the caller may switch whose id or name contains what they typed.
    pub(super) async fn migrate_suggestions(
        &self,
        caller: Caller,
        partial: &str,
    ) -> Result<Reply, ChatError> {
        let owner = if caller.is_admin {
            None
        } else {
            caller.user_id()
        };
        if owner.is_none() && !caller.is_admin {
            return Ok(Reply::Choices(Vec::new()));
        }
        let found = self.store.search_unmigrated(owner, partial, 25).await?;
        Ok(Reply::Choices(
            found
                .into_iter()
                .map(|c| Choice {
                    label: truncate(&format!("{} ({})", c.name, c.id), 100),
                    value: c.id.to_string(),
                })
                .collect(),
        ))
    }

    pub(super) async fn migrate_submit(
        &self,
        caller: Caller,
        connection: &ConnectionId,
        values: &[(String, String)],
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Reply, ChatError> {
        let connection = self.migratable(caller, connection.as_str()).await?;
        let value = |key: &str| {
            values
                .iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str())
        };
        let client_id = ZoomClientId::parse(value(CLIENT_ID_INPUT))
            .map_err(|e| ChatError::Refused(e.to_string()))?;
        let secret = parse_client_secret(value(CLIENT_SECRET_INPUT))
            .map_err(|e| ChatError::Refused(e.to_string()))?;
        match self
            .backends
            .start(caller.actor, &connection, &client_id, &secret, reply_to)
            .await
        {
            Ok(started) => Ok(Reply::Message(link_message(&connection, &started))),
            Err(PrepareError::AlreadySwitched) => Ok(Reply::Message(Message::private(format!(
                "`{}` is already on OAuth 2.0 in integrator.io, and authorized: cutover has recorded it as \
                 migrated. Nothing else to do.",
                connection.id
            )))),
            Err(PrepareError::OffJwt(kind)) => Ok(Reply::Message(Message::private(format!(
                "`{}` is no longer on JWT in integrator.io (it uses `{}` authentication): cutover has \
                 recorded it as switched. Nothing else to do.",
                connection.id,
                escape(&kind)
            )))),
            Err(e) => Err(prepare_error(e, &connection.id)),
        }
    }

    /// "Get a fresh link": the same credentials (or, in integrator.io, the same iClient),
    /// a new link; the old one stops working.
    pub(super) async fn fresh_link(
        &self,
        caller: Caller,
        connection: &ConnectionId,
        reply_to: Option<&ReplyHandle>,
    ) -> Result<Reply, ChatError> {
        let connection = self.migratable(caller, connection.as_str()).await?;
        match self.backends.renew(caller.actor, &connection, reply_to).await {
            Ok(renewed) => Ok(Reply::Update(link_message(&connection, &renewed))),
            Err(PrepareError::AlreadySwitched) => Ok(Reply::Update(Message::private(format!(
                "Your authorization went through: `{}` is on OAuth 2.0 in integrator.io. Nothing else to do.",
                connection.id
            )))),
            Err(e) => Err(prepare_error(e, &connection.id)),
        }
    }
}

fn prepare_error(error: PrepareError, connection: &ConnectionId) -> ChatError {
    let unchanged = "Nothing was changed in integrator.io.";
    match error {
        PrepareError::Issue(e) => issue_error(e, connection),
        PrepareError::Internal(e) => ChatError::Internal(e),
        PrepareError::Celigo(e) => ChatError::Refused(format!(
            "cutover could not switch `{connection}` in integrator.io: {e}. {unchanged}"
        )),
        PrepareError::NotZoom => ChatError::Refused(format!(
            "integrator.io says `{connection}` is not a Zoom connection, so cutover left it alone. \
             An admin can run /cutover connection sync to refresh the inventory."
        )),
        PrepareError::ManagedByConnector => ChatError::Refused(format!(
            "`{connection}` is managed by an integration app in integrator.io: switch it in that app's settings. {unchanged}"
        )),
        PrepareError::EditedMeanwhile => ChatError::Refused(format!(
            "Someone changed `{connection}` in integrator.io while cutover was preparing the switch, so cutover stopped \
             and deleted the iClient it had made. {unchanged} Give them a minute to finish, then run /migrate again."
        )),
        PrepareError::NotApplied => ChatError::Refused(format!(
            "integrator.io did not take the new definition of `{connection}` (it does not use the new iClient), so \
             cutover deleted the iClient it had made. {unchanged} Try again; if it keeps happening, switch it in \
             integrator.io: {FINISH_IN_INTEGRATOR_IO}"
        )),
        PrepareError::AlreadySwitched => ChatError::Refused(format!(
            "`{connection}` is already on OAuth 2.0 in integrator.io."
        )),
        PrepareError::OffJwt(kind) => ChatError::Refused(format!(
            "`{connection}` is no longer on JWT in integrator.io (it uses `{}` authentication).",
            escape(&kind)
        )),
        PrepareError::Unconfirmed(e) => ChatError::Refused(format!(
            "integrator.io did not confirm whether it took the switch of `{connection}` ({e}). cutover kept the new \
             iClient in case it did. Check the connection in integrator.io, then run /migrate again if it still \
             needs switching (cutover then deletes the iClient if nothing uses it)."
        )),
        PrepareError::Definition(e) => ChatError::Refused(format!(
            "cutover cannot switch `{connection}`: {e}. {unchanged} Switch it in integrator.io instead: {FINISH_IN_INTEGRATOR_IO}"
        )),
    }
}

/// Masked values a person should re-enter: the JWT credentials and tokens are obsolete.
fn worth_mentioning(dropped: &[String]) -> Vec<&str> {
    dropped
        .iter()
        .map(String::as_str)
        .filter(|path| {
            !(path.contains("encrypted")
                || path.contains("auth.")
                || path.ends_with("bearerToken")
                || path.ends_with("refreshToken"))
        })
        .collect()
}

fn issue_error(error: IssueError, connection: &ConnectionId) -> ChatError {
    match error {
        IssueError::NoKey => ChatError::Refused(
            "The switch needs a sealing key to keep your client secret safe, and none is configured, so cutover \
             takes no secret and none was stored. An admin runs `cutover keygen`, sets CUTOVER__SECURITY__SEALING_KEY to what it prints and restarts cutover."
                .to_owned(),
        ),
        IssueError::Busy { actor, expires_at, in_progress } => {
            let who = match actor {
                Some(Actor::Discord(id)) => id.mention(),
                _ => "Someone at the terminal".to_owned(),
            };
            if in_progress {
                ChatError::Refused(format!(
                    "A switch of `{connection}` started by {who} is being completed right now. \
                     Check /migration status connection:{connection} in a moment."
                ))
            } else {
                ChatError::Refused(format!(
                    "{who} already has a link for `{connection}`, valid until <t:{}:t> (<t:{}:R>). \
                     Wait for it to be used or to expire, then run /migrate again.",
                    expires_at.timestamp(),
                    expires_at.timestamp()
                ))
            }
        }
        IssueError::NothingToRenew => ChatError::Refused(format!(
            "There is no earlier link of yours to renew for `{connection}`. Run /migrate connection:{connection}."
        )),
        IssueError::Internal(e) => ChatError::Internal(e),
    }
}

/// The private answer with the personal link: what it does, which redirect URL to
/// register, and — honestly — what it leaves to do.
fn link_message(connection: &Connection, started: &Started) -> Message {
    let (link, celigo) = (started.link(), started.celigo());
    let expires = link.expires_at.timestamp();
    let what = match link.backend {
        Backend::Direct => format!(
            "With this (direct) switch cutover checks your Zoom app and keeps its token itself: the connection in \
             integrator.io is **not** changed. Afterwards, finish there. {FINISH_IN_INTEGRATOR_IO}"
        ),
        Backend::Celigo => format!(
            "cutover has switched the connection to OAuth 2.0 in integrator.io{iclient}, holding your app's client ID \
             and secret; it now awaits your authorization. Zoom will return you to integrator.io, and cutover confirms \
             the connection works.",
            iclient = celigo
                .and_then(|c| c.iclient_name.as_deref())
                .map(|name| format!(" with the iClient `{}`", escape(name)))
                .unwrap_or_default()
        ),
    };
    let mut text = format!(
        "**Your personal link to switch `{id}` {name} to OAuth 2.0**: for you only, it works once and expires <t:{expires}:R>.\n\
         {what}\n\
         Before you press it, in your Zoom OAuth app (marketplace.zoom.us › Manage › your app):\n\
         1. Under **App Credentials**, set the **Redirect URL for OAuth** to `{redirect}`\n\
         2. Add the same URL to the **OAuth allow list**.\n\
         3. Add the scopes the integration needs, and save.\n\
         Then press **Authorize with Zoom** and allow access. This message will say how it went.",
        id = connection.id,
        name = escape(connection.name.as_str()),
        redirect = link.redirect_uri,
    );
    let re_enter = celigo
        .map(|c| worth_mentioning(&c.dropped))
        .unwrap_or_default();
    if !re_enter.is_empty() {
        text.push_str(&format!(
            "\nintegrator.io hides some values, which could not be kept: {}. Re-enter them in integrator.io.",
            re_enter
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(warning) = celigo.and_then(|c| c.warning.as_deref()) {
        text.push_str(&format!(
            "\n⚠️ integrator.io did not give the authorization address just now ({}); your link asks again when you open it.",
            escape(warning)
        ));
    }
    let mut message = Message::private(text);
    message.buttons = vec![
        Button {
            label: "Authorize with Zoom".to_owned(),
            target: ButtonTarget::Link(link.url.clone()),
            disabled: false,
        },
        Button {
            label: "Get a fresh link".to_owned(),
            target: ButtonTarget::Action(ComponentId::FreshLink {
                connection: connection.id.clone(),
            }),
            disabled: false,
        },
    ];
    message
}
