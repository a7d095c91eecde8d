"""Ray RLlib PPO (new API stack) on a Lepton scenario, with several EnvRunners.

On this machine (a local Ray):

    python python/examples/rllib_ppo.py --scenario lane_keep --env-runners 2 --envs-per-runner 8 --iterations 20

On a cluster: start Ray on the head machine (`ray start --head --port=6379`) and on every worker
(`ray start --address=HEAD_IP:6379`), each with this package installed (`pip install ./python`),
then run the same script on the head with `--address auto` and as many `--env-runners` as the
cluster has CPUs for: RLlib places the EnvRunners on the workers, each stepping its Lepton envs
in Rust.

Each EnvRunner vectorises `lepton.LeptonEnv` itself (Gymnasium's next-step autoreset, which is
what RLlib expects), one env per `--envs-per-runner`; the configuration is `lepton.rllib`'s.
"""

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="lane_keep")
    parser.add_argument("--env-runners", type=int, default=2)
    parser.add_argument("--envs-per-runner", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--batch", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--address", default=None, help="a Ray cluster's address ('auto' on its head)")
    args = parser.parse_args()

    import ray

    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=max(2, args.env_runners + 1), include_dashboard=False)
    from lepton.rllib import ppo_config

    algo = ppo_config(args.scenario, args.env_runners, args.envs_per_runner, args.batch, args.seed).build_algo()
    started = time.perf_counter()
    for i in range(args.iterations):
        result = algo.train()
        runners = result.get("env_runners", {})
        print(json.dumps({"iteration": i + 1, "env_steps": runners.get("num_env_steps_sampled_lifetime"),
                          "episode_return_mean": runners.get("episode_return_mean"),
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    algo.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
