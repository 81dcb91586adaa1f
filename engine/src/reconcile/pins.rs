//! Which PINs may be put on a lock: drawn at random from the lock's alphabet, never one
//! anyone would try first.

use rand::Rng;

use crate::{Pin, PinRules};

/// A random PIN of the rules' longest length, drawn from their alphabet; `None` when the
/// alphabet is empty. The caller checks it against the rules, [`is_guessable`] and the
/// codes already on the lock.
pub fn draw(rules: &PinRules, rng: &mut impl Rng) -> Option<Pin> {
    let alphabet: Vec<char> = rules.alphabet.chars().collect();
    if alphabet.is_empty() {
        return None;
    }
    let pin: String = (0..rules.max_len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
        .collect();
    Some(Pin::new(pin))
}

/// True for a PIN anyone would try first: one digit repeated (`777777`) or a straight run
/// up or down (`345678`, `987654`). TTLock refuses these as "too simple" (errcode -2032,
/// `../shared/reference/lock-providers.md` §2.9); no lock should hold them.
pub fn is_guessable(pin: &str) -> bool {
    let digits: Vec<i32> = pin
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| d as i32)
        .collect();
    if digits.len() < 2 || digits.len() != pin.chars().count() {
        return false;
    }
    let steps: Vec<i32> = digits.windows(2).map(|w| w[1] - w[0]).collect();
    [0, 1, -1]
        .iter()
        .any(|step| steps.iter().all(|s| s == step))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn repeated_digits_and_straight_runs_are_guessable() {
        for pin in ["777777", "345678", "987654", "0123456789"] {
            assert!(is_guessable(pin), "{pin}");
        }
        for pin in ["345679", "579135", "112233", "1", "12a456"] {
            assert!(!is_guessable(pin), "{pin}");
        }
    }

    #[test]
    fn a_drawn_pin_has_the_longest_length_and_only_the_alphabet() {
        let mut rng = StdRng::seed_from_u64(3);
        let rules = PinRules {
            min_len: 4,
            max_len: 8,
            alphabet: "13579".into(),
            forbidden_prefixes: Vec::new(),
        };
        for _ in 0..100 {
            let pin = draw(&rules, &mut rng).expect("a PIN");
            assert_eq!(pin.as_str().len(), 8, "{pin:?}");
            assert!(pin.as_str().chars().all(|c| "13579".contains(c)), "{pin:?}");
        }
        let empty = PinRules {
            alphabet: String::new(),
            ..rules
        };
        assert!(draw(&empty, &mut rng).is_none());
    }
}
