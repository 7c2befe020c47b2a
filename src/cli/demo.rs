//! `sp4n demo`: the bundled simulator in-process on loopback TLS, a temporary store, one
//! pull, and a summary of what arrived.

use super::{CliError, Ctx};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many complaints the simulated platform holds.
    #[arg(long, default_value_t = 1000)]
    pub complaints: usize,
    /// The simulator's seed (same seed, same world).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(_ctx: &Ctx, _args: DemoArgs) -> Result<i32, CliError> {
    Err(CliError::new(
        1,
        "the demo needs the simulator, which is not built in yet",
    ))
}
