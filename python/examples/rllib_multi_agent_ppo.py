"""Ray RLlib PPO (new API stack) driving every car of a multi-agent Lepton world with one shared
policy (parameter sharing): the four cars of `platoon` learn one network together.

    python python/examples/rllib_multi_agent_ppo.py --scenario platoon --env-runners 2 --iterations 20

Each EnvRunner steps one world (`lepton.pettingzoo`'s, in Rust); every car is an agent, mapped to
the policy `shared`. On a cluster, as in `rllib_ppo.py`: `--address auto` on the head.
"""

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="platoon")
    parser.add_argument("--env-runners", type=int, default=2)
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
    from lepton.rllib import multi_agent_ppo_config

    algo = multi_agent_ppo_config(args.scenario, args.env_runners, args.batch, args.seed).build_algo()
    started = time.perf_counter()
    for i in range(args.iterations):
        result = algo.train()
        runners = result.get("env_runners", {})
        print(json.dumps({"iteration": i + 1,
                          "agent_steps": runners.get("num_module_steps_sampled_lifetime", {}).get("shared"),
                          "episode_return_mean": runners.get("episode_return_mean"),
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    algo.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
