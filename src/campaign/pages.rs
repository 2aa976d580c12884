//! The page's HTML, from maud templates: every value escaped by the engine, times shown
//! in UTC (labelled) for the script to localize, and nothing here but presentation.

use super::frame::{html_response, layout, notice_response, Notice};
use super::session::Viewer;
use super::table::{TableParams, TableView, SORTS, STATES};
use super::view::{person, CampaignView, ConnectionView, Row};
use super::Campaign;
use crate::domain::{distance, ConnectionId, ConnectionState, UserId};
use crate::store::StateFilter;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, PreEscaped};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn campaign_page(
    State(campaign): State<Arc<Campaign>>,
    headers: HeaderMap,
    Query(params): Query<TableParams>,
) -> Response {
    let viewer = match campaign.viewer(&headers).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let table = params.read(viewer_id(viewer));
    match campaign.campaign_view(table).await {
        Ok(view) => html_response(
            StatusCode::OK,
            layout(
                "Campaign",
                Some(&person(viewer.actor, &view.names)),
                campaign_body(&view),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "the campaign page could not be read");
            notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable())
        }
    }
}

pub(super) async fn connection_page(
    State(campaign): State<Arc<Campaign>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let viewer = match campaign.viewer(&headers).await {
        Ok(viewer) => viewer,
        Err(refused) => return refused,
    };
    let found = match ConnectionId::parse(&id) {
        Ok(id) => campaign.store.get_connection(&id).await,
        Err(_) => Ok(None),
    };
    let connection = match found {
        Ok(Some(connection)) => connection,
        Ok(None) => return notice_response(StatusCode::NOT_FOUND, &Notice::no_connection()),
        Err(e) => {
            tracing::warn!(error = %e, "a connection's page could not be read");
            return notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable());
        }
    };
    match campaign.connection_view(connection).await {
        Ok(view) => {
            let title = view.row.connection.name.to_string();
            html_response(
                StatusCode::OK,
                layout(
                    &title,
                    Some(&person(viewer.actor, &view.names)),
                    connection_body(&view),
                ),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "a connection's page could not be read");
            notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable())
        }
    }
}

fn viewer_id(viewer: Viewer) -> Option<UserId> {
    match viewer.actor {
        crate::domain::Actor::Discord(id) => Some(id),
        _ => None,
    }
}

/// A time as UTC text that the script rewrites into the viewer's zone.
fn moment(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339()) data-local {
            (at.format("%a %-d %b %Y, %H:%M UTC"))
        }
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

/// A table's column headings.
fn heads(labels: &[&str]) -> Markup {
    html! {
        tr {
            @for label in labels {
                th scope="col" { (label) }
            }
        }
    }
}

fn campaign_body(view: &CampaignView) -> Markup {
    html! {
        h1 { "The cutover at a glance" }
        (progress(view))
        (deadlines(view))
        (burndown(view))
        (owners(view))
        (connections(view))
        (next_up(view))
    }
}

fn state_link(view: &CampaignView, state: &str, label: &str, count: u64) -> Markup {
    let mut table = view.table.clone();
    table.query.state = match state {
        "removed" => StateFilter::Removed,
        raw => ConnectionState::parse(raw).map_or(StateFilter::Any, StateFilter::One),
    };
    table.page = 1;
    html! {
        div {
            dt { a href=(table.link("/status", None, 1)) { (label) } }
            dd { (count) }
        }
    }
}

fn progress(view: &CampaignView) -> Markup {
    let c = &view.counts;
    let total = c.total();
    html! {
        section aria-labelledby="progress-title" {
            h2 id="progress-title" { "Progress" }
            p.figure {
                strong id="progress-figure" { (c.migrated) " of " (total) " migrated" }
                " (" (percent(c.migrated, total)) "%)"
            }
            progress max=(total.max(1)) value=(c.migrated) aria-labelledby="progress-figure" {
                (percent(c.migrated, total)) "%"
            }
            dl.counts {
                (state_link(view, "pending", "not migrated", c.pending))
                (state_link(view, "awaiting_authorization", "awaiting authorization", c.awaiting))
                (state_link(view, "needs_reauthorization", "needs re-authorization", c.needs_reauthorization))
                (state_link(view, "migrated", "migrated", c.migrated))
                (state_link(view, "removed", "removed", c.removed))
            }
        }
    }
}

fn deadlines(view: &CampaignView) -> Markup {
    html! {
        section aria-labelledby="deadlines-title" {
            h2 id="deadlines-title" { "Deadlines" }
            @if view.deadlines.is_empty() {
                p { "No deadlines are set." }
            } @else {
                div.scroll {
                    table {
                        caption.hint { "Times in UTC unless your browser shows them in your own time zone." }
                        thead { (heads(&["Deadline", "When", "Countdown", "Note"])) }
                        tbody {
                            @for d in &view.deadlines {
                                tr {
                                    th scope="row" { (d.title.as_str()) }
                                    td { @if d.approximate { "about " } (moment(d.due)) }
                                    td { (distance(d.due, view.now, Tz::UTC).to_string()) }
                                    td { (d.note) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn burndown(view: &CampaignView) -> Markup {
    html! {
        section aria-labelledby="burndown-title" {
            h2 id="burndown-title" { "Burndown" }
            @match &view.chart_svg {
                Some(svg) => figure.chart {
                    // plotters' SVG: its text is escaped by plotters (a test says so).
                    (PreEscaped(svg))
                    figcaption { "Connections not yet on OAuth 2.0 over time, each deadline, today and the projected finish." }
                },
                None => p { "The chart could not be drawn just now." },
            }
        }
    }
}

fn name_of(owner: Option<UserId>, names: &HashMap<UserId, String>) -> String {
    match owner {
        Some(id) => names.get(&id).cloned().unwrap_or_else(|| id.to_string()),
        None => "nobody yet".to_owned(),
    }
}

fn owners(view: &CampaignView) -> Markup {
    html! {
        section aria-labelledby="owners-title" {
            h2 id="owners-title" { "Owners" }
            div.scroll {
                table.owners {
                    thead { (heads(&["Owner", "Not migrated", "Awaiting authorization", "Needs re-authorization", "Switched", "Last activity"])) }
                    tbody {
                        @for row in &view.owners {
                            tr.owner {
                                th scope="row" {
                                    @if let Some(id) = row.owner {
                                        a href={ "/status?owner=" (id) } { (name_of(row.owner, &view.names)) }
                                    } @else {
                                        (name_of(None, &view.names))
                                    }
                                }
                                td { (row.pending) }
                                td { (row.awaiting) }
                                td { (row.needs_reauthorization) }
                                td { (row.switched) }
                                td { (moment(row.last_activity)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn filter_form(table: &TableView) -> Markup {
    html! {
        form.filter method="get" action="/status" {
            label { "State "
                select name="state" {
                    @for (value, label) in STATES {
                        option value=(value) selected[table.state_param() == value] { (label) }
                    }
                }
            }
            label { "Search "
                input type="search" name="q" value=[table.query.text.as_deref()] placeholder="id, name or integration";
            }
            @if let Some(owner) = table.query.owner {
                input type="hidden" name="owner" value=(owner);
            }
            label { "Sort by "
                select name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[table.sort_param() == value] { (label) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn sort_header(table: &TableView, column: &str, label: &str) -> Markup {
    let current = table.sort_param() == column;
    let sort = match (current, table.query.descending) {
        (true, false) => "ascending",
        (true, true) => "descending",
        _ => "none",
    };
    html! {
        th scope="col" aria-sort=(sort) {
            a href=(table.link("/status", Some(column), 1)) { (label) }
        }
    }
}

fn connection_row(row: &Row, names: &HashMap<UserId, String>) -> Markup {
    let c = &row.connection;
    html! {
        tr {
            th scope="row" {
                a href={ "/status/connections/" (c.id.as_str()) } { (c.name.as_str()) }
                br; code { (c.id.as_str()) }
            }
            td { (row.state_label()) }
            td { (name_of(c.owner, names)) }
            td { (c.integration.as_str()) }
            td { (row.backend) }
            td { (moment(c.updated_at)) }
        }
    }
}

fn connections(view: &CampaignView) -> Markup {
    let table = &view.table;
    html! {
        section aria-labelledby="connections-title" {
            h2 id="connections-title" { "Connections" }
            (filter_form(table))
            p.hint {
                (view.matching) " match. "
                a href=(table.link("/status/connections.csv", None, 1)) download { "Download these as CSV" }
            }
            div.scroll {
                table.connections {
                    thead { tr {
                        (sort_header(table, "name", "Connection"))
                        (sort_header(table, "state", "State"))
                        (sort_header(table, "owner", "Owner"))
                        (sort_header(table, "integration", "Integration"))
                        th scope="col" { "Backend" }
                        (sort_header(table, "changed", "Last change"))
                    } }
                    tbody {
                        @for row in &view.rows {
                            (connection_row(row, &view.names))
                        }
                    }
                }
            }
            @if view.pages() > 1 {
                nav.pager aria-label="Pages of connections" {
                    @if table.page > 1 {
                        a rel="prev" href=(table.link("/status", None, table.page - 1)) { "← Previous" }
                    }
                    span { "Page " (table.page) " of " (view.pages()) }
                    @if table.page < view.pages() {
                        a rel="next" href=(table.link("/status", None, table.page + 1)) { "Next →" }
                    }
                }
            }
        }
    }
}

fn next_up(view: &CampaignView) -> Markup {
    html! {
        section aria-labelledby="next-title" {
            h2 id="next-title" { "Next reminders" }
            @if view.upcoming.is_empty() {
                p { "No reminder posts are coming up." }
            } @else {
                ul {
                    @for post in &view.upcoming {
                        li { (moment(post.at)) ": " (post.what) }
                    }
                }
            }
            h2 { "Last sync from integrator.io" }
            p {
                @match &view.last_sync {
                    Some(sync) => { (moment(sync.at)) ": " (sync.detail) },
                    None => "No sync has run.",
                }
                @if view.sync_failed { " " strong.warn { "The latest round failed; see /readyz and cutover's log." } }
            }
        }
    }
}

fn connection_body(view: &ConnectionView) -> Markup {
    let c = &view.row.connection;
    html! {
        p { a href="/status" { "← The whole campaign" } }
        h1 { (c.name.as_str()) }
        dl.details {
            div { dt { "Id" } dd { code { (c.id.as_str()) } } }
            div { dt { "State" } dd { (view.row.state_label()) } }
            div { dt { "Owner" } dd { (name_of(c.owner, &view.names)) } }
            div { dt { "Integration" } dd { (c.integration.as_str()) } }
            div { dt { "Backend" } dd { (view.row.backend) } }
            div { dt { "Last change" } dd { (moment(c.updated_at)) } }
        }
        section aria-labelledby="history-title" {
            h2 id="history-title" { "History" }
            @if view.history.is_empty() {
                p { "Nothing recorded yet." }
            } @else {
                div.scroll {
                    table {
                        thead { (heads(&["When", "Who", "What", "Detail"])) }
                        tbody {
                            @for entry in &view.history {
                                tr {
                                    td { (moment(entry.at)) }
                                    td { (person(entry.actor, &view.names)) }
                                    td { (entry.action.as_str()) }
                                    td { (entry.detail) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
