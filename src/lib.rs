//! ccdesk: a contact-center agent workstation for the terminal, and the
//! contact center it talks to.

pub mod agent_cli;
pub mod app;
pub mod bench;
pub mod client;
pub mod demo;
pub mod login_cli;
pub mod media;
pub mod memory;
pub mod protocol;
pub mod records_cli;
pub mod report_cli;
pub mod server;
pub mod sim;
pub mod speech;
pub mod tls;
pub mod ui;
