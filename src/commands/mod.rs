//! One module per subcommand.

pub mod bench;
pub mod perception;
pub mod render;
pub mod rollout;
pub mod scenario;
