//! Build script: the libtorch run-time path for feature `tch` (see ../build/libtorch_rpath.rs).

include!("../build/libtorch_rpath.rs");

fn main() {
    libtorch_rpath();
}
