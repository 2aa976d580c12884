//! cutover: a chat-ops bot that drives a team's Zoom JWT → OAuth 2.0 cutover for
//! Celigo integrator.io connections.

pub mod chat;
pub mod clock;
pub mod domain;
pub mod inventory;
pub mod settings;
pub mod store;
