//! The inventory of Zoom connections, from either source: a file an admin imports
//! (`import`: CSV or JSON, all rows or none) or integrator.io itself (`sync`).

mod import;
mod sync;

pub use import::{parse_csv, parse_json, problems, read_file, InventoryError, RowError, COLUMNS};
pub use sync::{sync, SyncError, SyncProgress, SyncReport};
