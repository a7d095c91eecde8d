//! The Lepton driving world: scenario files, the rapier3d world (road, ego vehicle, obstacles, NPC
//! traffic), rewards and episode ends, and the Gymnasium-style environment API.

pub mod road;
pub mod scenario;
