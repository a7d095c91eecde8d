//! Build script: the libtorch run-time path for feature `tch` (see build/libtorch_rpath.rs). The
//! git commit of the build is lepton-pipeline's (`lepton_pipeline::VERSION`).

include!("build/libtorch_rpath.rs");

fn main() {
    libtorch_rpath();
}
