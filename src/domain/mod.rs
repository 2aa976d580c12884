//! Types that can only hold valid values. Each parses, never merely validates.

mod actor;
mod backend;
mod connection;
mod connection_id;
mod deadline;
mod human_duration;
mod scalar;
mod user_id;

pub use actor::{Actor, ActorError};
pub use backend::Backend;
pub use connection::{
    is_bidi_control, AuthType, Connection, ConnectionRecord, ConnectionSource, ConnectionState,
    DisplayName, DisplayNameError, IntegrationName, MigratedVia, RemoteAuth, ShowFilter,
    SyncedConnection, UnknownAuthType, UnknownShowFilter, MAX_NAME_LEN,
};
pub use connection_id::{ConnectionId, ConnectionIdError};
pub use deadline::{
    distance, local_to_utc, parse_due, BadDue, Deadline, DeadlineOrigin, Distance, TimeZoneName,
};
pub use human_duration::{HumanDuration, HumanDurationError};
pub(crate) use scalar::try_from_scalar;
pub use scalar::Scalar;
pub use user_id::{Snowflake, SnowflakeError, UserId};
