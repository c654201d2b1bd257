//! `leadsort diff` (being written).

use crate::error::{Error, Result};
use crate::ui::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _ui: &Ui) -> Result<()> {
    Err(Error::Internal("`leadsort diff` is not written yet".into()))
}
