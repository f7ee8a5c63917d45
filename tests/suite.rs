//! The integration tests as one binary: each module is a file of `tests/` (`mod x;` in a crate's root
//! finds `tests/x.rs`). They drive the server through its command line and HTTP, against SQLite and
//! PostgreSQL. One binary rather than one per file: each file's binary linked the whole server again
//! (Cargo.toml, `autotests = false`). Run one file's tests with `scripts/test FILE::`.

mod common;

mod assessment;
mod assistant;
mod assistant_llm;
mod authz_matrix;
mod browser;
mod browser_visits;
mod cccd_props;
mod community_ambassadors;
mod community_classes;
mod community_corrections;
mod community_demo;
mod community_visits;
mod crash_and_backup;
mod credentials_conformance;
mod dashboards;
mod demo;
mod editor;
mod http;
mod identity;
mod import_bad_files;
mod import_people;
mod learning;
mod lrs;
mod lrs_conformance;
mod public_stats;
mod reports;
mod tracking_counters;
mod two_servers;
mod unit_scope;
mod visit_lists;
mod vneid;
mod vneid_delivery;
