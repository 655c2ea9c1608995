//! `keyscope policy …`: policy documents checked, explained, tested and drafted from OpenAPI.
//!
//! - `load.rs`: reading a document, every refusal naming its field.
//! - `rows.rs`: how an endpoint row is shown (table cells, JSON).
//! - `check.rs`, `explain.rs`, `test.rs`: the commands of the same names.
//! - `openapi/`: `from-openapi`.

mod check;
mod explain;
pub mod load;
mod openapi;
mod rows;
mod test;

use crate::args::PolicyCommand;
use crate::failure::Outcome;

/// Runs one `policy` subcommand.
pub fn run(command: PolicyCommand) -> Outcome {
    match command {
        PolicyCommand::Check(args) => check::run(&args),
        PolicyCommand::Explain(args) => explain::run(&args),
        PolicyCommand::Test(args) => test::run(&args),
        PolicyCommand::FromOpenapi(args) => openapi::run(&args),
    }
}
