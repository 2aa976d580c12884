//! cutover: a chat-ops bot that drives a team's Zoom JWT → OAuth 2.0 cutover for
//! Celigo integrator.io connections.

pub mod campaign;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod discord;
pub mod domain;
pub mod heartbeat;
pub mod http;
pub mod integrator_io;
pub mod inventory;
pub mod markdown;
pub mod metrics;
pub mod reminders;
pub mod server;
pub mod settings;
pub mod sign_in;
pub mod startup;
pub mod store;
pub mod switch;
pub mod telemetry;
pub mod terminal;
pub mod words;
