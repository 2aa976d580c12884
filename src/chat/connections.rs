//! `/connections`: the inventory, one page at a time.

use super::{Button, ButtonTarget, ChatCore, ChatError, ComponentId, Message};
use crate::domain::{Connection, ShowFilter, UserId};
use crate::markdown::{escape, truncate};
use crate::store::ConnectionQuery;

pub const PAGE_SIZE: u32 = 10;

fn line(c: &Connection) -> String {
    let owner = c.owner.map_or_else(
        || "no owner".to_owned(),
        |o| format!("owner {}", o.mention()),
    );
    let integration = if c.integration.is_empty() {
        String::new()
    } else {
        format!(" · {}", escape(&truncate(c.integration.as_str(), 60)))
    };
    let mut line = format!(
        "• `{}` **{}**{integration} · {owner} · {} · {}",
        c.id,
        escape(&truncate(c.name.as_str(), 80)),
        c.auth_type.label(),
        c.state.label()
    );
    if c.offline == Some(true) {
        line.push_str(" · offline in integrator.io");
    }
    if let Some(at) = c.removed_at {
        line.push_str(&format!(
            " · gone from integrator.io <t:{}:R>",
            at.timestamp()
        ));
    }
    line
}

impl ChatCore {
    /// Page `page` (from 1) of the listing; past the end (the list shrank since the
    /// button was made) shows the last page.
    pub(super) async fn connections_page(
        &self,
        show: ShowFilter,
        owner: Option<UserId>,
        page: u32,
    ) -> Result<Message, ChatError> {
        let mut query = ConnectionQuery {
            show,
            owner,
            offset: u64::from(page.saturating_sub(1)) * u64::from(PAGE_SIZE),
            limit: u64::from(PAGE_SIZE),
        };
        let mut result = self.store.list_connections(&query).await?;
        let pages = u32::try_from(result.total.div_ceil(u64::from(PAGE_SIZE)))
            .unwrap_or(u32::MAX)
            .max(1);
        let mut page = page.max(1);
        if page > pages {
            page = pages;
            query.offset = u64::from(page - 1) * u64::from(PAGE_SIZE);
            result = self.store.list_connections(&query).await?;
        }

        let what = match show {
            ShowFilter::Unmigrated => "Connections not yet on OAuth 2.0",
            ShowFilter::Migrated => "Connections switched to OAuth 2.0",
            ShowFilter::All => "All Zoom connections",
            ShowFilter::Removed => "Connections no longer in integrator.io",
        };
        let whose = owner
            .map(|o| format!(" owned by {}", o.mention()))
            .unwrap_or_default();
        let mut text = format!("**{what}{whose}**: {}", result.total);
        if pages > 1 {
            text.push_str(&format!(" (page {page} of {pages})"));
        }
        if result.connections.is_empty() {
            text.push_str(match show {
                ShowFilter::Unmigrated => "\nNothing left to switch. 🎉",
                _ => "\nNone.",
            });
        }
        for c in &result.connections {
            text.push('\n');
            text.push_str(&line(c));
        }
        if show != ShowFilter::Migrated
            && result
                .connections
                .iter()
                .any(|c| c.state != crate::domain::ConnectionState::Migrated)
        {
            text.push_str("\nOwners: run `/migrate connection:<id>` to switch yours.");
        }

        let mut message = Message::public(text);
        if pages > 1 {
            let button = |label: &str, target_page: u32, disabled: bool| Button {
                label: label.to_owned(),
                target: ButtonTarget::Action(ComponentId::ConnectionsPage {
                    show,
                    owner,
                    page: target_page,
                }),
                disabled,
            };
            message.buttons = vec![
                button("◀ Previous", page.saturating_sub(1).max(1), page == 1),
                button("Next ▶", (page + 1).min(pages), page == pages),
            ];
        }
        Ok(message)
    }
}
