//! leadsort: score, tier and route CRM contacts by rules written in `rules.toml`.
//!
//! The library is organised the way data flows through a run:
//! `rules` (the format) → `engine` (rules compiled for one header, applied per row) →
//! `input` / `output` (CSV in, writers out) → `cmd` (one module per subcommand).

pub mod balance;
pub mod calibrate;
pub mod cli;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod guard;
pub mod input;
pub mod output;
pub mod pipeline;
pub mod rules;
pub mod selftest;
pub mod summary;
pub mod ui;

pub use error::{Error, Result};
