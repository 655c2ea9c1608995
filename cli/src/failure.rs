//! How a command fails: a message for `main` to print, or a failure the command has already
//! reported itself (exit 1 either way).

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Printed by `main` on stderr as `keyscope <command>: <message>`.
    Message(String),
    /// The command already said why (on stdout or stderr).
    Reported,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Message(message)
    }
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;
