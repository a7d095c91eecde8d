"""Lepton beside its peers on this machine, in one run: each row is measured with `lepton bench`
and, where a peer exists, with the peer's script here, and printed as a Markdown table with the
ratio. Run benches/peers/setup first (it prints the environment), then, from the checkout:

    eval "$(benches/peers/setup)"
    cargo build --release
    python benches/peers/compare.py --lepton target/release/lepton

Each figure is the median of --repeat runs (the machine may be shared and noisy)."""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_json(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr}")
    return json.loads(done.stdout)


def median(command: list[str], key: str, repeat: int) -> float:
    return statistics.median(run_json(command)[key] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lepton", default="target/release/lepton", help="the lepton binary to measure")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, not a measurement)")
    args = parser.parse_args()
    lepton, python = args.lepton, sys.executable
    steps = "10" if args.quick else "100"
    dqn_steps = "160" if args.quick else "800"

    rows = []

    def row(name, ours, peer=None, peer_name="—", goal=""):
        ratio = f"{ours / peer:.1f}×" if peer else "—"
        peer_text = f"{peer_name}: {peer:,.0f}" if peer else peer_name
        rows.append((name, peer_text, f"{ours:,.1f}" if ours < 100 else f"{ours:,.0f}", ratio, goal))

    render = [lepton, "bench", "render", "--scenario", "lane_keep", "--envs", "16", "--steps", steps, "--json"]
    ours = median(render + ["--width", "96", "--height", "96"], "env_steps_per_second", args.repeat)
    peer = median([python, str(HERE / "carracing.py"), "--envs", "16", "--steps", "20" if args.quick else "200"],
                  "env_steps_per_second", args.repeat)
    row("env steps/s, 16 envs, 96×96 RGB frames", ours, peer, "Gymnasium CarRacing-v3", "≥ 10× the peer")

    ours = median(render + ["--width", "84", "--height", "84"], "camera_frames_per_second", args.repeat)
    row("camera frames/s, 16 envs, 84×84 RGB", ours, goal="≥ 2,000")

    train = [lepton, "bench", "train", "--json"]
    ours = median(train + ["--env-steps", dqn_steps, "--envs", "8"], "env_steps_per_second", args.repeat)
    peer = median([python, str(HERE / "sb3_dqn.py"), "--steps", dqn_steps,
                   "--learning-starts", "80" if args.quick else "400"], "env_steps_per_second", args.repeat)
    row("env steps/s, DQN from pixels (Nature CNN, 4×84×84 grey, batch 32, 1 update / 4 steps, 8 envs)",
        ours, peer, "Stable-Baselines3 DQN, PyTorch CPU", "≥ 2× the peer")

    dqn = [lepton, "bench", "run", "--agent", "dqn", "--envs", "8", "--steps", dqn_steps, "--overlap-learning", "--json"]
    ours = median(dqn, "env_steps_per_second", args.repeat)
    row("the same, learning on a second thread while the envs step (`overlap_learning`)",
        ours, peer, "Stable-Baselines3 DQN, PyTorch CPU", "≥ 2× the peer")

    ours = median(train + ["--updates", "3" if args.quick else "20"], "learner_updates_per_second", args.repeat)
    row("DQN learner updates/s (Nature CNN, batch 32)", ours)

    qcnn = [lepton, "bench", "run", "--agent", "qlearning-cnn", "--envs", "8", "--json"]
    ours = median(qcnn + ["--steps", "200" if args.quick else "2000"], "env_steps_per_second", args.repeat)
    row("env steps/s, Q-learning on CNN perception (84×84 RGB), 8 envs", ours, goal="≥ 500")

    perception = [lepton, "bench", "perception", "--size", "84", "--channels", "3", "--json"]
    ours = median(perception + ["--batches", "2" if args.quick else "20"], "frames_per_second", args.repeat)
    row("CNN perception inference frames/s, 84×84 RGB, batch 64", ours, goal="≥ 2,000")

    print("| workload | peer | Lepton | ratio | goal |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
