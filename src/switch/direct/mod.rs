//! The `direct` backend: cutover itself exchanges the code at Zoom (Basic auth, S256
//! PKCE), verifies the token, keeps it sealed and fresh, and revokes what nobody holds.
//! What both backends share (attempts, links, outcome pages, sealing, announcing) is in
//! [`crate::switch`].

pub mod callback;
mod refresh;
mod revoke;
mod stray;
pub(super) mod zoom;

pub use refresh::RefreshReport;
pub use revoke::RevokeReport;
pub use zoom::Zoom;
