//! What the center and the connections share: a connection's number and
//! what the center sends it. Kept apart so that the center's parts (seats,
//! sessions) can name a connection without importing the center.

use std::sync::Arc;

/// A connection's number, unique for the life of the server process.
pub type ConnId = u64;

/// What the center sends a connection.
#[derive(Debug, Clone)]
pub enum Outbound {
    Text(Arc<str>),
    /// Send what is queued, then close the connection.
    Close,
}
