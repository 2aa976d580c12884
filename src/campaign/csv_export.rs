//! `GET /status/connections.csv`: the connections table as filtered, every row, the
//! same columns. A cell a spreadsheet would read as a formula is neutralized.

use super::frame::{notice_response, Notice};
use super::table::TableParams;
use super::view::Row;
use super::Campaign;
use crate::domain::UserId;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn download(
    State(campaign): State<Arc<Campaign>>,
    headers: HeaderMap,
    Query(params): Query<TableParams>,
) -> Response {
    if let Err(refused) = campaign.viewer(&headers).await {
        return refused;
    }
    // The same filter as the page, without an owner's own rows pulled first.
    let table = params.read(None);
    let read = async {
        let connections = campaign.store.connection_table_all(&table.query).await?;
        let names = campaign.store.display_names().await?;
        let rows: Vec<Row> = connections.into_iter().map(|c| campaign.row(c)).collect();
        anyhow::Ok(to_csv(&rows, &names)?)
    };
    match read.await {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"zoom-connections.csv\"",
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "the connections CSV could not be made");
            notice_response(StatusCode::SERVICE_UNAVAILABLE, &Notice::unavailable())
        }
    }
}

pub(super) const COLUMNS: [&str; 8] = [
    "id",
    "name",
    "state",
    "owner",
    "owner_id",
    "integration",
    "backend",
    "last_change",
];

/// A leading `=`, `+`, `-`, `@`, tab or carriage return makes spreadsheets evaluate a
/// cell (OWASP's CSV injection); a leading apostrophe makes it text.
fn neutral(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

pub(super) fn to_csv(rows: &[Row], names: &HashMap<UserId, String>) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 96 + 64));
    out.write_record(COLUMNS)?;
    for row in rows {
        let c = &row.connection;
        let owner_id = c.owner.map(|o| o.to_string()).unwrap_or_default();
        let owner = c
            .owner
            .and_then(|o| names.get(&o).cloned())
            .unwrap_or_else(|| owner_id.clone());
        let changed = c.updated_at.to_rfc3339();
        let cells = [
            neutral(c.id.as_str()),
            neutral(c.name.as_str()),
            neutral(row.state_label()),
            neutral(&owner),
            neutral(&owner_id),
            neutral(c.integration.as_str()),
            neutral(row.backend),
            neutral(&changed),
        ];
        out.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
    }
    Ok(out.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::neutral;

    #[test]
    fn a_cell_that_would_run_as_a_formula_is_text() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutral(formula), format!("'{formula}"));
        }
        assert_eq!(neutral("Zoom sales"), "Zoom sales");
        assert_eq!(neutral(""), "");
    }
}
