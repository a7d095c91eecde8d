//! One writer at a time, with two real processes: a second `lepton train` into a run directory
//! that a first one is writing is refused at once (exit 2, naming the first's process id and
//! command) while readers go on reading; once the first is killed, its lock is taken over and the
//! run resumes. The same for two `pipeline run`s of one file.

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `lepton ARGS` in the background.
fn start(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lepton"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lepton starts")
}

/// Waits until `dir`'s lock file names process `pid` (it has taken the lock).
fn wait_for_lock(dir: &Path, pid: u32) {
    let started = Instant::now();
    let lock = dir.join(lepton_artifacts::lock::LOCK_FILE);
    while std::fs::read_to_string(&lock).map_or(true, |t| t.lines().next() != Some(pid.to_string().as_str()))
    {
        assert!(started.elapsed() < Duration::from_secs(120), "{} never took {}", pid, lock.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_trainer_is_refused_naming_the_first_and_takes_over_once_it_is_killed() {
    let dir = scratch("locks-train");
    let run = dir.join("run");
    let out = run.display().to_string();
    // Long enough to be still running when the second one starts (some seconds).
    let mut first = start(&train_on_tiny("qlearning", &["--steps", "100000", "--out", &out]));
    wait_for_lock(&run, first.id());

    let second = lepton_owned(&train_on_tiny("qlearning", &["--steps", "100", "--out", &out, "--resume"]));
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let message = stderr(&second);
    assert!(message.contains(&format!("in use by process {}", first.id())), "{message}");
    assert!(message.contains("train tiny"), "the holder's command is named: {message}");
    assert!(first.try_wait().unwrap().is_none(), "the first trainer was not disturbed");

    // Readers take no lock: a plot of the run in progress reads what is there.
    let started = Instant::now();
    while !run.join("metrics.csv").exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "no metrics written");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Killed: the operating system drops its lock, and a resume takes the folder over.
    first.kill().unwrap();
    first.wait().unwrap();
    let resumed =
        lepton_owned(&train_on_tiny("qlearning", &["--steps", "100000", "--out", &out, "--resume"]));
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_runs_of_one_pipeline_file_do_not_interleave() {
    let dir = scratch("locks-pipeline");
    let file = write(
        &dir,
        "p.ron",
        r#"Pipeline(name: "locked", scenario: "tiny", collect: (frames: 20000, held_out_frames: 100, envs: 2))"#,
    );
    let mut first = start(&["pipeline".into(), "run".into(), file.clone()]);
    let work = dir.join("pipeline-runs").join("locked");
    wait_for_lock(&work, first.id());
    let second = lepton(&["pipeline", "run", &file]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(stderr(&second).contains(&format!("in use by process {}", first.id())), "{}", stderr(&second));
    let monitor = lepton(&["pipeline", "monitor", &file]);
    assert_eq!(monitor.status.code(), Some(2), "the monitor writes there too: {}", stderr(&monitor));
    assert!(stderr(&monitor).contains("in use by process"), "{}", stderr(&monitor));
    first.kill().unwrap();
    first.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
