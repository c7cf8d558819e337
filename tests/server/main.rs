//! Integration tests: a real server on 127.0.0.1:0, real WebSocket clients.

mod harness;

mod bad_input;
mod baresip;
mod callback;
mod calls;
mod chat_video;
mod chats;
mod cluster;
mod coach;
mod consult;
mod contact;
mod directory;
mod exposure;
mod help;
mod login;
mod media;
mod nats;
mod passwords;
mod pci;
mod pg;
mod phones;
mod queues;
mod record_store;
mod records;
mod report;
mod routing;
mod sip;
mod speech;
mod staffing;
mod status;
mod supervision;
mod tls;
mod transcript;
mod wallboard;
mod wrapup;
