//! The customer side and the colleagues of the demo: a trunk that places
//! calls, speaks, chats and hangs up from a scenario file; simulated agents;
//! the autopilot that drives the demo agent through its keys.

pub mod colleague;
pub mod pilot;
pub mod scenario;
pub mod timeline;
pub mod trunk;
