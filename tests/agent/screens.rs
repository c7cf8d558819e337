//! Screen snapshots (see main.rs).
