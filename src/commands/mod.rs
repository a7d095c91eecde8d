//! One module per subcommand.

pub mod bench;
pub mod eval;
pub mod perception;
pub mod pipeline;
pub mod plot;
pub mod render;
pub mod rollout;
pub mod scenario;
pub mod train;
pub mod view;
