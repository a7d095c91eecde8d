//! One module per subcommand.

pub mod bench;
pub mod rollout;
pub mod scenario;
