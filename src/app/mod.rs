//! The agent terminal's Redux-style store: state, actions, the pure reducer,
//! key bindings, and the loop that runs effects.

pub mod action;
pub mod board;
pub mod keymap;
pub mod reduce;
pub mod state;

pub use action::{Action, Effect};
pub use reduce::{next_tick, reduce};
pub use state::State;
pub mod config;
pub mod link;
pub mod run;

#[cfg(test)]
mod reduce_tests;
