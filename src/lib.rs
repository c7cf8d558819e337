//! ccdesk: a contact-center agent workstation for the terminal, and the
//! contact center it talks to.

pub mod protocol;
pub mod server;
pub mod bench;
pub mod records_cli;
pub mod client;
