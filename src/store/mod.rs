//! All SQL lives here. SQLite through sqlx, migrations embedded and applied at open.

mod actor_column;
mod attempts;
mod audit;
mod audit_action;
mod backup;
mod bot_settings;
mod cache;
mod campaign;
mod celigo_switch;
mod change_feed;
mod changes;
mod connections;
mod deadlines;
mod folder;
mod owner_change;
mod reminders;
mod reseal;
mod retry;
mod revocations;
mod sign_in;
mod stray_tokens;
mod switch_record;
mod sync;
mod tokens;

pub use attempts::{Attempt, AttemptStatus, CreateOutcome, NewAttempt, NotConsumed, PREPARE_GRACE};
pub use audit::AuditEntry;
pub use audit_action::AuditAction;
pub use bot_settings::ReminderState;
pub use cache::CacheReads;
pub use campaign::{LastSync, OwnerRow, SortBy, StateFilter, TablePage, TableQuery};
pub use celigo_switch::Prepared;
pub use connections::{
    Change, ConnectionPage, ConnectionQuery, ImportSummary, OwnerWork, Progress,
};
pub use reminders::{PostClaim, PostKind};
pub use reseal::{Reseal, ResealSummary, SealedOwner, SealedValue};
pub use retry::retried;
pub use revocations::{Revocation, RevocationEnd};
pub use sign_in::SignIn;
pub use stray_tokens::StrayTokens;
pub use switch_record::SwitchDone;
pub use sync::SyncSummary;
pub use tokens::{RefreshStored, SealedTokens, TokenRecord, ZoomIdentity};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "database.url {url:?} is not a SQLite URL: write sqlite://path/to/cutover.db ({source})"
    )]
    BadUrl { url: String, source: sqlx::Error },
    #[error("cannot create the database folder {path}: {reason}")]
    CreateFolder { path: String, reason: String },
    #[error("cannot write in the database folder {path}: {reason}")]
    WriteFolder { path: String, reason: String },
    #[error("cannot take the lock {path} to set up the database: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database {path} was written by a newer version of cutover, and this one must not touch it \
         (it could spoil what that version keeps there): nothing was changed. Run the newer cutover on \
         it, or point database.url at another file"
    )]
    Newer { path: String },
    #[error(
        "the database is busy: another cutover process (an import or a sync?) has been writing to it for over 5 seconds; try again when it has finished"
    )]
    Busy,
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("the database holds a value cutover cannot read ({0}); was it edited by hand?")]
    Corrupt(String),
    #[error("cannot back up to {target}: {reason}")]
    Backup { target: String, reason: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        // SQLITE_BUSY (5) and its extended codes (261, 517, …) after the busy timeout:
        // another writer holds the database, which the user can wait out.
        let busy = error
            .as_database_error()
            .and_then(|e| e.code())
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == 5);
        if busy {
            StoreError::Busy
        } else {
            StoreError::Database(error)
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Reads kept between writes (by anyone), for answers that repeat them.
    cache: std::sync::Arc<cache::ReadCache>,
    /// Changes as they happen, for pages that update themselves.
    feed: std::sync::Arc<change_feed::ChangeFeed>,
    /// The database file (none in memory): its loss makes cutover unready, even though
    /// open connections would go on answering from the deleted file.
    file: Option<std::path::PathBuf>,
}

/// The folder the database file is in (files cutover saves, like charts, go beside it).
pub fn folder_of(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let folder = options.get_filename().parent()?;
    (!folder.as_os_str().is_empty()).then(|| folder.to_path_buf())
}

/// An exclusive lock on `<database>.migrate-lock`, held while migrating (released when
/// dropped, or by the system if the process dies).
async fn migration_lock(database: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".migrate-lock");
    let path = std::path::PathBuf::from(name);
    let shown = path.display().to_string();
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| StoreError::Lock {
        path: shown.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    locked.map_err(|source| StoreError::Lock {
        path: shown,
        source,
    })
}

/// Refuses a database that a newer cutover has migrated past what this one knows (its
/// schema may mean something else to that version), looking through a read-only
/// connection, before anything is written: sqlx would only say that a migration "is
/// missing", and the journal mode would be set first. A database that cannot be read
/// here is left to the open that follows, which says why.
async fn refuse_newer(url: &str, file: &std::path::Path) -> Result<(), StoreError> {
    use sqlx::Connection;
    let Ok(options) = SqliteConnectOptions::from_str(url) else {
        return Ok(());
    };
    let Ok(mut connection) = sqlx::SqliteConnection::connect_with(&options.read_only(true)).await
    else {
        return Ok(());
    };
    let found: Result<Option<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&mut connection)
            .await;
    let _ = connection.close().await;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    match found {
        Ok(Some(found)) if found > known => Err(StoreError::Newer {
            path: file.display().to_string(),
        }),
        // Not newer, or no such table yet: a database cutover has not set up.
        _ => Ok(()),
    }
}

impl Store {
    /// Opens (creating the file and its folder if needed) and migrates the database.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::BadUrl {
                url: url.to_owned(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let file = options.get_filename().to_path_buf();
        let file = (file != std::path::Path::new(":memory:") && !file.as_os_str().is_empty())
            .then_some(file);
        if let Some(existing) = file.as_deref().filter(|f| f.exists()) {
            refuse_newer(url, existing).await?;
        }
        if let Some(folder) = options.get_filename().parent() {
            if !folder.as_os_str().is_empty() && folder != std::path::Path::new(":memory:") {
                folder::usable(folder)?;
            }
        }
        // Processes starting at once on a new database take turns at creating it (WAL
        // mode) and migrating it: each migration is one transaction, but two processes
        // could otherwise both apply the first.
        let lock = match &file {
            Some(file) => Some(migration_lock(file).await?),
            None => None,
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
            .map_err(|source| StoreError::Open {
                url: url.to_owned(),
                source,
            })?;
        let migrated = MIGRATOR.run(&pool).await;
        drop(lock);
        migrated?;
        if file.is_some() {
            // From here on the file exists: a connection opened later must not create an
            // empty one in its place (a deleted database would silently start afresh).
            pool.set_connect_options(options.create_if_missing(false));
        }
        let cache = cache::ReadCache::new(changes::Changes::watch(file.as_deref()));
        Ok(Self {
            pool,
            feed: std::sync::Arc::new(change_feed::ChangeFeed::new(file.as_deref())),
            file,
            cache: std::sync::Arc::new(cache),
        })
    }

    /// Commits, then tells every reader of this database (this process at once, others
    /// through the folder watch) that it changed: after the commit is visible, so no
    /// cached read can outlive it.
    async fn commit(&self, tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<(), StoreError> {
        tx.commit().await?;
        self.cache.changed();
        self.feed.committed();
        Ok(())
    }

    /// A count that moves whenever the database changes (here or in another process).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.subscribe()
    }

    /// How often reads were served from the cache (for /metrics).
    pub fn cache_reads(&self) -> std::sync::Arc<CacheReads> {
        self.cache.reads()
    }

    /// For `/readyz`: the database answers and every embedded migration is applied.
    pub async fn readiness(&self) -> Result<(), StoreError> {
        if let Some(file) = &self.file {
            if !file.exists() {
                return Err(StoreError::Corrupt(format!(
                    "the database file {} is gone",
                    file.display()
                )));
            }
        }
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        let embedded = MIGRATOR.iter().count() as i64;
        if applied < embedded {
            return Err(StoreError::Corrupt(format!(
                "{applied} of {embedded} migrations applied"
            )));
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
