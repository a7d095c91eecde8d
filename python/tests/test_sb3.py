"""The Stable-Baselines3 adapter: SB3's algorithms train on it for a few hundred steps, and what
it reports is what SB3's own vector envs report."""

import numpy as np
import pytest

sb3 = pytest.importorskip("stable_baselines3")

from lepton.sb3 import LeptonSB3VecEnv  # noqa: E402


def test_ppo_trains_on_the_driving_state_and_sees_finished_episodes():
    env = LeptonSB3VecEnv("tiny", num_envs=4, seed=1)
    model = sb3.PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512
    # tiny's episodes last at most 100 steps: SB3 logged some from infos["episode"].
    assert len(model.ep_info_buffer) > 0
    assert all(np.isfinite(e["r"]) and e["l"] > 0 for e in model.ep_info_buffer)


def test_a_finished_episode_reports_its_last_observation_and_how_it_ended():
    env = LeptonSB3VecEnv("tiny", num_envs=2, seed=3)
    obs = env.reset()
    assert obs.shape == (2, 7) and obs.dtype == np.float32
    for _ in range(300):
        obs, rewards, dones, infos = env.step(np.array([1, 1]))
        if dones.any():
            i = int(np.flatnonzero(dones)[0])
            assert infos[i]["terminal_observation"].shape == (7,)
            assert not np.array_equal(infos[i]["terminal_observation"], obs[i])
            assert isinstance(infos[i]["TimeLimit.truncated"], bool)
            assert infos[i]["episode"]["l"] > 0
            return
    pytest.fail("no episode ended in 300 steps")


def test_ppo_trains_on_a_dict_of_the_state_and_a_lidar_and_keeps_finished_episodes_apart():
    env = LeptonSB3VecEnv("tiny", num_envs=2, seed=1, observation=["state", "lidar"])
    obs = env.reset()
    assert set(obs) == {"state", "lidar"} and obs["lidar"].shape == (2, 32, 360)
    model = sb3.PPO("MultiInputPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    # The observations handed out are copies: a later step does not change them.
    before = {k: v.copy() for k, v in obs.items()}
    for _ in range(120):
        _, _, dones, infos = env.step(np.array([1, 1]))
        if dones.any():
            last = infos[int(np.flatnonzero(dones)[0])]["terminal_observation"]
            assert set(last) == {"state", "lidar"} and last["lidar"].shape == (32, 360)
            break
    else:
        pytest.fail("no episode ended in 120 steps")
    assert all(np.array_equal(obs[k], before[k]) for k in obs)


def test_dqn_trains_from_pixels():
    env = LeptonSB3VecEnv("lane_keep", num_envs=1, seed=2, observation="frames")
    assert env.observation_space.shape == (84, 84, 3) and env.observation_space.dtype == np.uint8
    model = sb3.DQN("CnnPolicy", env, buffer_size=500, learning_starts=50, train_freq=4, batch_size=16,
                    seed=0, device="cpu")
    model.learn(total_timesteps=200)
    assert model.num_timesteps >= 200



class _Straight:
    """A model with SB3's predict() that always takes the first key (straight on, throttle)."""

    def predict(self, obs, deterministic=True):
        return np.zeros(len(obs), np.int64), None


def test_evaluate_held_out_scores_the_first_episode_of_each_held_out_env():
    from lepton.sb3 import evaluate_held_out

    result = evaluate_held_out(_Straight(), "tiny", episodes=4)
    assert result["episodes"] == 4 and sum(result["ends"].values()) == 4
    assert result["success_rate"] == result["ends"].get("success", 0) / 4
    assert np.isfinite(result["mean_return"])
    assert evaluate_held_out(_Straight(), "tiny", episodes=4) == result, "held-out seeds are fixed"
