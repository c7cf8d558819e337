//! Integration tests: a real server on 127.0.0.1:0, real WebSocket clients.

mod harness;

mod bad_input;
mod login;
mod routing;
mod status;
