"""Env steps per second from Python beside the command line's own benchmarks, on the same
machine, in the same minutes:

    python -m lepton.bench --lepton target/debug/lepton --envs 16

For the driving state, ``LeptonVectorEnv.step`` against ``lepton bench sim``; for camera frames,
against ``lepton bench render`` (its ``env_steps_per_second``: physics, rendering and readback).
Both sides drive with the scripted lane keeper (the Python side asks the Rust env for its
actions, so the episodes are the same), warm up first, and alternate, each measured ``--repeats``
times; the figure is the median. Prints one JSON object, the ratios included.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time

import numpy as np

from .gym import LeptonVectorEnv


def python_steps_per_second(scenario: str, envs: int, steps: int, observation: str) -> float:
    env = LeptonVectorEnv(scenario, num_envs=envs, seed=0, observation=observation, copy=False)
    env.reset()
    inner = env._inner
    for _ in range(20 if observation == "state" else 5):
        env.step(inner.keep_lane_actions())
    started = time.perf_counter()
    for _ in range(steps):
        env.step(inner.keep_lane_actions())
    seconds = time.perf_counter() - started
    env.close()
    return envs * steps / seconds


def cli_steps_per_second(lepton: str, what: str, scenario: str, envs: int, steps: int) -> float:
    out = subprocess.run(
        [lepton, "bench", what, "--scenario", scenario, "--envs", str(envs), "--steps", str(steps), "--json"],
        check=True, capture_output=True, text=True,
    )
    report = json.loads(out.stdout)
    figures = report.get("figures", report)
    value = figures["env_steps_per_second"]
    return float(value["value"] if isinstance(value, dict) else value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lepton", default=shutil.which("lepton"), help="the lepton program")
    parser.add_argument("--scenario", default="lane_keep")
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2000, help="steps per env, state observation")
    parser.add_argument("--frame-steps", type=int, default=100, help="steps per env, frames observation")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.lepton:
        parser.error("--lepton: the lepton program (not on PATH)")

    rows = {"state": ([], []), "frames": ([], [])}
    for _ in range(args.repeats):
        rows["state"][0].append(python_steps_per_second(args.scenario, args.envs, args.steps, "state"))
        rows["state"][1].append(cli_steps_per_second(args.lepton, "sim", args.scenario, args.envs, args.steps))
        rows["frames"][0].append(python_steps_per_second(args.scenario, args.envs, args.frame_steps, "frames"))
        rows["frames"][1].append(cli_steps_per_second(args.lepton, "render", args.scenario, args.envs,
                                                      args.frame_steps))
    result = {"scenario": args.scenario, "envs": args.envs, "repeats": args.repeats}
    for kind, (python, cli) in rows.items():
        p, c = statistics.median(python), statistics.median(cli)
        result[kind] = {"python_env_steps_per_second": round(p, 1), "cli_env_steps_per_second": round(c, 1),
                        "ratio": round(p / c, 3), "python_all": [round(x, 1) for x in python],
                        "cli_all": [round(x, 1) for x in cli]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
