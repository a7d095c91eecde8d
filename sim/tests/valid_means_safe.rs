//! Whatever passes validation builds a world that steps without panicking and with finite
//! observations: random numeric mutations of every shipped scenario, the valid ones simulated.

mod common;

use common::scenarios_dir;
use lepton_sim::Env;
use lepton_sim::scenario::parse_str;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Replaces one number in `text` with a value drawn from a nasty set.
fn mutate_number(text: &str, rng: &mut ChaCha8Rng) -> String {
    let bytes = text.as_bytes();
    let starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| {
            bytes[i].is_ascii_digit()
                && (i == 0
                    || !(bytes[i - 1].is_ascii_alphanumeric()
                        || bytes[i - 1] == b'.'
                        || bytes[i - 1] == b'_'))
        })
        .collect();
    let start = starts[rng.random_range(0..starts.len())];
    let end = (start..bytes.len())
        .find(|&i| !(bytes[i].is_ascii_digit() || bytes[i] == b'.'))
        .unwrap_or(bytes.len());
    let integer = !text[start..end].contains('.');
    let replacement = match rng.random_range(0..8) {
        0 => "0".to_string(),
        1 => "1".to_string(),
        2 => "100000".to_string(),
        3 => format!("{}", rng.random_range(0..50)),
        4 => "3".to_string(),
        _ => {
            let x: f32 = rng.random_range(0.0..5.0f32).exp2() * rng.random_range(0.1..10.0);
            if integer { format!("{}", x as u64) } else { format!("{x:.3}") }
        }
    };
    format!("{}{}{}", &text[..start], replacement, &text[end..])
}

#[test]
fn every_valid_mutation_of_the_shipped_scenarios_simulates_safely() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut simulated = 0;
    for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let original = std::fs::read_to_string(&path).unwrap();
        for trial in 0..60 {
            let mut text = original.clone();
            for _ in 0..rng.random_range(1..4) {
                text = mutate_number(&text, &mut rng);
            }
            let Ok(scenario) = parse_str(&text, "mutant") else { continue };
            let scenario = Arc::new(scenario);
            let outcome = std::panic::catch_unwind(|| {
                let mut env = Env::new(scenario.clone(), trial);
                let mut rng = ChaCha8Rng::seed_from_u64(trial);
                for _ in 0..40 {
                    let step = env.step(rng.random_range(0..env.num_actions()));
                    assert!(
                        step.obs.state.to_array().iter().all(|x| x.is_finite()),
                        "non-finite observation"
                    );
                    assert!(step.reward.is_finite(), "non-finite reward");
                    if step.terminated || step.truncated {
                        env.reset(None);
                    }
                }
            });
            assert!(outcome.is_ok(), "{}: this valid mutation panicked:\n{text}", path.display());
            simulated += 1;
        }
    }
    assert!(simulated > 60, "only {simulated} mutations were valid: the test must simulate many");
}
