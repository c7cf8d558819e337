//! The agent terminal: screens (TestBackend + insta snapshots) and end-to-end
//! runs of the real binary in a pseudo-terminal against a real server.

mod board_help_screens;
mod board_screens;
mod board_staffing_screens;
mod callback_screens;
mod chats_screens;
mod consult_screens;
mod e2e;
mod e2e_cluster;
mod e2e_help;
mod e2e_offers;
mod help_screens;
mod pty;
mod report_screens;
mod scenes;
mod screens;
mod supervise;
