//! A consistent copy of the live database, taken while cutover runs.

use super::{Store, StoreError};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

impl Store {
    /// Writes the whole database to `target` as one consistent snapshot (`VACUUM INTO`:
    /// readers and writers go on meanwhile), then checks the copy opens and is whole.
    pub async fn backup_to(&self, target: &Path) -> Result<(), StoreError> {
        let path = target.to_str().ok_or_else(|| StoreError::Backup {
            target: target.display().to_string(),
            reason: "the path is not UTF-8 text; choose a plain name".into(),
        })?;
        if target.exists() {
            return Err(StoreError::Backup {
                target: path.to_owned(),
                reason:
                    "it already exists, and a backup never overwrites anything; choose a new name"
                        .into(),
            });
        }
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Backup {
                target: path.to_owned(),
                reason: format!("{e}; check that its folder exists and can be written"),
            })?;
        let mut copy = SqliteConnectOptions::new()
            .filename(target)
            .read_only(true)
            .connect()
            .await?;
        let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&mut copy)
            .await?;
        copy.close().await?;
        if verdict != "ok" {
            return Err(StoreError::Backup {
                target: path.to_owned(),
                reason: format!("the copy does not check out ({verdict}); do not rely on it"),
            });
        }
        Ok(())
    }
}
