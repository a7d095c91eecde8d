// Shared by the build scripts of the packages whose binaries or tests link libtorch (feature
// `tch`): records libtorch's folder as the run-time search path, so `lepton` and the tests find
// libtorch without LD_LIBRARY_PATH. torch-sys finds libtorch the same two ways: $LIBTORCH, or the
// `torch` package of the Python on PATH when LIBTORCH_USE_PYTORCH is set.

fn libtorch_rpath() {
    for var in ["LIBTORCH", "LIBTORCH_USE_PYTORCH", "VIRTUAL_ENV"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    let lib = if let Some(root) = std::env::var_os("LIBTORCH") {
        Some(std::path::PathBuf::from(root).join("lib"))
    } else if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        let python = match std::env::var_os("VIRTUAL_ENV") {
            Some(venv) => std::path::PathBuf::from(venv).join("bin/python"),
            None => "python3".into(),
        };
        std::process::Command::new(python)
            .args(["-c", "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().into())
    } else {
        None
    };
    match lib {
        Some(lib) => println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display()),
        None => println!(
            "cargo:warning=feature tch: set LIBTORCH or LIBTORCH_USE_PYTORCH=1 (scripts/setup-libtorch); \
             without them the binary needs LD_LIBRARY_PATH to find libtorch"
        ),
    }
}
