//! The connections table's address: filter, sort and page as query parameters, so every
//! view is a link (no state in the browser) and the CSV takes the same filter.

use crate::domain::{ConnectionState, UserId};
use crate::store::{SortBy, StateFilter, TableQuery};
use serde::Deserialize;

pub(super) const PAGE_SIZE: u64 = 100;

/// The parameters as a browser sends them; anything unknown or malformed is ignored
/// (the page says what it shows), never an error page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TableParams {
    state: Option<String>,
    owner: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    /// Text, so that `page=x` shows the first page instead of refusing the request.
    page: Option<String>,
}

/// What the table shows, read from the parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TableView {
    pub query: TableQuery,
    /// From 1.
    pub page: u64,
}

pub(super) const STATES: [(&str, &str); 6] = [
    ("", "every state"),
    ("pending", "not migrated"),
    ("awaiting_authorization", "awaiting authorization"),
    ("needs_reauthorization", "needs re-authorization"),
    ("migrated", "migrated"),
    ("removed", "removed"),
];

pub(super) const SORTS: [(&str, &str); 5] = [
    ("name", "name"),
    ("state", "state"),
    ("owner", "owner"),
    ("integration", "integration"),
    ("changed", "last change"),
];

impl TableParams {
    pub fn read(&self, viewer: Option<UserId>) -> TableView {
        let state = match self.state.as_deref() {
            Some("removed") => StateFilter::Removed,
            Some(raw) => ConnectionState::parse(raw).map_or(StateFilter::Any, StateFilter::One),
            None => StateFilter::Any,
        };
        let sort = match self.sort.as_deref() {
            Some("state") => SortBy::State,
            Some("owner") => SortBy::Owner,
            Some("integration") => SortBy::Integration,
            Some("changed") => SortBy::Changed,
            _ => SortBy::Name,
        };
        let owner = self.owner.as_deref().and_then(|o| UserId::parse(o).ok());
        let text = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect());
        TableView {
            query: TableQuery {
                state,
                owner,
                text,
                sort,
                descending: self.dir.as_deref() == Some("desc"),
                // An owner sees their own first, unless they chose whose to see.
                first_for: viewer.filter(|_| owner.is_none()),
            },
            page: self
                .page
                .as_deref()
                .and_then(|p| p.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .max(1),
        }
    }
}

impl TableView {
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(PAGE_SIZE)
    }

    pub fn state_param(&self) -> &'static str {
        match self.query.state {
            StateFilter::Any => "",
            StateFilter::Removed => "removed",
            StateFilter::One(state) => state.as_str(),
        }
    }

    pub fn sort_param(&self) -> &'static str {
        match self.query.sort {
            SortBy::Name => "name",
            SortBy::State => "state",
            SortBy::Owner => "owner",
            SortBy::Integration => "integration",
            SortBy::Changed => "changed",
        }
    }

    /// The query string for this view with `page` (and, for a column header, `sort`
    /// flipped or set); empty values left out.
    pub fn link(&self, path: &str, sort: Option<&str>, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.state_param().is_empty() {
            query.append_pair("state", self.state_param());
        }
        if let Some(owner) = self.query.owner {
            query.append_pair("owner", &owner.to_string());
        }
        if let Some(text) = &self.query.text {
            query.append_pair("q", text);
        }
        let (sort, descending) = match sort {
            // The same column again reverses it.
            Some(column) if column == self.sort_param() => (column, !self.query.descending),
            Some(column) => (column, false),
            None => (self.sort_param(), self.query.descending),
        };
        if sort != "name" {
            query.append_pair("sort", sort);
        }
        if descending {
            query.append_pair("dir", "desc");
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}
