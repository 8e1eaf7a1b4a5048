//! PostgreSQL's `percentile_cont` computed exactly from a daily rollup's delay histogram.

/// Delays from this many minutes up are kept as exact values (`long_delays`), not in the
/// histogram (migration V4 uses the same bound).
pub const HISTOGRAM_MINUTES: i32 = 1440;

/// `percentile_cont(fraction)` over `count` delays: `histogram[i]` of them are `i` minutes and
/// the rest are `long_delays` (ascending). Same arithmetic as PostgreSQL (positions
/// `floor`/`ceil` of `fraction * (count - 1)`, then `lo + (hi - lo) * proportion`), so the
/// result is the one the database's aggregate gives over the same values, bit for bit.
/// `None` when `count` is 0; an error when the parts do not add up to `count`.
pub fn percentile_cont(
    fraction: f64,
    count: i64,
    histogram: &[i32],
    long_delays: &[i32],
) -> Result<Option<f64>, String> {
    let in_histogram: i64 = histogram.iter().map(|&n| i64::from(n)).sum();
    if histogram.iter().any(|&n| n < 0)
        || in_histogram + long_delays.len() as i64 != count
        || long_delays.windows(2).any(|w| w[0] > w[1])
    {
        return Err(format!(
            "histogram ({in_histogram}) and long delays ({}) do not add up to {count} departed",
            long_delays.len()
        ));
    }
    if count == 0 {
        return Ok(None);
    }
    let position = fraction * (count - 1) as f64;
    let (first, second) = (position.floor(), position.ceil());
    let value_at = |rank: i64| -> f64 {
        let mut seen = 0;
        for (minute, &n) in histogram.iter().enumerate() {
            seen += i64::from(n);
            if rank < seen {
                return minute as f64;
            }
        }
        f64::from(long_delays[(rank - in_histogram) as usize])
    };
    let (lo, hi) = (value_at(first as i64), value_at(second as i64));
    Ok(Some(lo + (hi - lo) * (position - first)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: sort every value and interpolate as PostgreSQL does.
    fn sorted_reference(fraction: f64, mut values: Vec<i32>) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let position = fraction * (values.len() - 1) as f64;
        let (first, second) = (position.floor(), position.ceil());
        let (lo, hi) = (
            f64::from(values[first as usize]),
            f64::from(values[second as usize]),
        );
        Some(lo + (hi - lo) * (position - first))
    }

    fn rollup_of(values: &[i32]) -> (Vec<i32>, Vec<i32>) {
        let mut histogram = Vec::new();
        let mut long = Vec::new();
        for &v in values {
            if v < HISTOGRAM_MINUTES {
                if histogram.len() <= v as usize {
                    histogram.resize(v as usize + 1, 0);
                }
                histogram[v as usize] += 1;
            } else {
                long.push(v);
            }
        }
        long.sort_unstable();
        (histogram, long)
    }

    proptest! {
        #[test]
        fn equals_interpolating_the_sorted_values(
            values in prop::collection::vec(prop_oneof![0..90i32, 0..3000i32, Just(i32::MAX)], 0..300),
            fraction in prop_oneof![Just(0.95), 0.0..=1.0f64],
        ) {
            let (histogram, long) = rollup_of(&values);
            prop_assert_eq!(
                percentile_cont(fraction, values.len() as i64, &histogram, &long).unwrap(),
                sorted_reference(fraction, values)
            );
        }
    }

    #[test]
    fn parts_that_do_not_add_up_are_an_error() {
        assert!(percentile_cont(0.95, 3, &[1, 1], &[]).is_err());
        assert!(percentile_cont(0.95, 2, &[2, -1], &[1500]).is_err());
        assert!(percentile_cont(0.95, 2, &[], &[2000, 1500]).is_err());
        assert_eq!(percentile_cont(0.95, 0, &[], &[]), Ok(None));
        assert_eq!(percentile_cont(0.5, 2, &[1, 0, 0, 1], &[]), Ok(Some(1.5)));
    }
}
