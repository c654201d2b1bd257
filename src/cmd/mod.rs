//! One module per subcommand: each has its `Args` and a `run` that reads like the story of
//! the command.

pub mod classify;
