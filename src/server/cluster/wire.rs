//! What travels between gateways and the owner on NATS: the subjects, the
//! commands (JSON), and the frames back (the protocol's text as it is, the
//! connection in a header).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::server::center::LoginAsk;

/// Commands from gateways to the owner (request/reply).
pub fn commands(center: &str) -> String {
    format!("ccdesk.{center}.cmd")
}

/// Frames from the owner to the connections on `node`.
pub fn frames(center: &str, node: &str) -> String {
    format!("ccdesk.{center}.node.{node}")
}

/// A new owner says so here: gateways log their connections in again.
pub fn owners(center: &str) -> String {
    format!("ccdesk.{center}.owner")
}

/// Gateways say they are alive here (`{node, boot}`), a third of a lease
/// apart; the owner drops the connections of a gateway silent for a lease.
pub fn alive(center: &str) -> String {
    format!("ccdesk.{center}.alive")
}

/// Commands and offers for the media service of `node` (the bridges of
/// the calls that landed there).
pub fn media(center: &str, node: &str) -> String {
    format!("ccdesk.{center}.media.{node}")
}

/// The owner's list of the bridges it knows, by node, every lease: each
/// media service ends the bridges no owner knows any more.
pub fn live_bridges(center: &str) -> String {
    format!("ccdesk.{center}.media-live")
}

/// What the bridges of every node report (digits, speech), for the owner.
pub fn bridge_events(center: &str) -> String {
    format!("ccdesk.{center}.bridge")
}

/// A gateway's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alive {
    pub node: String,
    pub boot: u64,
}

/// The header naming the gateway process a frame is for (a node that
/// restarted under the same name ignores its predecessor's frames).
pub const BOOT: &str = "Ccdesk-Boot";
/// The header naming the connection a frame is for.
pub const CONN: &str = "Ccdesk-Conn";
/// The header of a frame that closes its connection (after what is queued).
pub const CLOSE: &str = "Ccdesk-Close";
/// The owner's acknowledgement when it does not know the connection (a
/// new owner): the gateway logs it in again, then sends the command again.
pub const UNKNOWN: &str = "unknown-conn";
/// The owner's acknowledgement of a command it took.
pub const TAKEN: &str = "ok";

/// One command from a gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The gateway's node name.
    pub node: String,
    /// The gateway process's random number: a node that restarts counts
    /// its commands from 1 again.
    pub boot: u64,
    /// The connection, numbered by its gateway.
    pub conn: u64,
    /// The gateway's count of commands: the owner takes each once, however
    /// often a lost acknowledgement made the gateway send it.
    pub seq: u64,
    pub what: What,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum What {
    Login(LoginAsk),
    #[serde(rename_all = "camelCase")]
    Request {
        id: Value,
        method: String,
        params: Value,
        /// `Supervisor.setPassword`: the hash the gateway made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_hash: Option<String>,
    },
    Disconnected,
    /// The connection (a SIP trunk) gave session `session` its customer's
    /// phone line, which stays in the gateway's media service.
    CustomerLine {
        session: String,
    },
}
