//! Medians and ranges across rounds.

use std::time::Duration;

/// A median with its range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Spread {
    pub(super) median: f64,
    pub(super) min: f64,
    pub(super) max: f64,
}

impl Spread {
    pub(super) fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        Spread {
            median: median_of_sorted(&values),
            min: values.first().copied().unwrap_or(f64::NAN),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The median of sorted values: the middle one, or the mean of the two
/// middle ones.
fn median_of_sorted(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The median of durations; zero when there are none.
pub(super) fn median_duration(values: impl Iterator<Item = Duration>) -> Duration {
    let secs = Spread::of(values.map(|d| d.as_secs_f64()).collect()).median;
    Duration::from_secs_f64(if secs.is_finite() { secs } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median_of_sorted(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median_of_sorted(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert!(median_of_sorted(&[]).is_nan());
    }
}
