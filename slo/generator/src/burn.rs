//! Multi-window, multi-burn-rate alerting policy (Google SRE workbook, chapter 5), with the burn
//! factors derived from each SLO's own period instead of the workbook's 30-day constants.

/// One alert condition: both windows burn faster than `factor` times the budget, held `for_`.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnWindow {
    pub long: &'static str,
    pub short: &'static str,
    pub long_seconds: u32,
    pub short_seconds: u32,
    /// How long the condition must hold before the alert fires.
    pub for_: &'static str,
    /// Burn factor: error ratio / error budget.
    pub factor: f64,
}

/// A severity and the conditions that raise it (one alerting rule per window, so each window
/// keeps its own `for:`).
pub struct BurnPolicy {
    pub alert: &'static str,
    pub severity: &'static str,
    pub windows: Vec<BurnWindow>,
}

/// Share of the period's budget each window may spend before it alerts, the workbook's choice:
/// page at 2% in 1 h or 5% in 6 h, ticket at 10% in 1 d or 10% in 3 d.
struct Spend {
    long: &'static str,
    short: &'static str,
    long_seconds: u32,
    short_seconds: u32,
    for_: &'static str,
    budget_share: f64,
}

/// `for:` per window: long enough that a burst which the short window forgets quickly does not
/// notify (2 m of a 5 m window), short against the time the budget lasts at that burn.
const PAGE: [Spend; 2] = [
    Spend {
        long: "1h",
        short: "5m",
        long_seconds: 3600,
        short_seconds: 300,
        for_: "2m",
        budget_share: 0.02,
    },
    Spend {
        long: "6h",
        short: "30m",
        long_seconds: 21600,
        short_seconds: 1800,
        for_: "15m",
        budget_share: 0.05,
    },
];
const TICKET: [Spend; 2] = [
    Spend {
        long: "1d",
        short: "2h",
        long_seconds: 86400,
        short_seconds: 7200,
        for_: "1h",
        budget_share: 0.10,
    },
    Spend {
        long: "3d",
        short: "6h",
        long_seconds: 259200,
        short_seconds: 21600,
        for_: "3h",
        budget_share: 0.10,
    },
];

/// Burn factor that spends `budget_share` of a `period_days` budget in `long_seconds`, rounded
/// to two decimals: 28 days gives 13.44, 5.6, 2.8 and 0.93; 30 days gives 14.4, 6, 3 and 1.
pub fn factor(period_days: u32, long_seconds: u32, budget_share: f64) -> f64 {
    let raw = budget_share * f64::from(period_days) * 86400.0 / f64::from(long_seconds);
    (raw * 100.0).round() / 100.0
}

fn windows(period_days: u32, spends: &[Spend]) -> Vec<BurnWindow> {
    spends
        .iter()
        .map(|s| BurnWindow {
            long: s.long,
            short: s.short,
            long_seconds: s.long_seconds,
            short_seconds: s.short_seconds,
            for_: s.for_,
            factor: factor(period_days, s.long_seconds, s.budget_share),
        })
        .collect()
}

/// The policies of an SLO of `period_days`; `page` false keeps only the tickets.
pub fn policies(period_days: u32, page: bool) -> Vec<BurnPolicy> {
    let mut out = Vec::new();
    if page {
        out.push(BurnPolicy {
            alert: "SLOBurnRatePage",
            severity: "page",
            windows: windows(period_days, &PAGE),
        });
    }
    out.push(BurnPolicy {
        alert: "SLOBurnRateTicket",
        severity: "ticket",
        windows: windows(period_days, &TICKET),
    });
    out
}

/// Every window a recording rule is written for (alerts and dashboards use them).
pub const WINDOWS: [&str; 8] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_follow_the_period() {
        let f = |days| {
            policies(days, true)
                .iter()
                .flat_map(|p| p.windows.iter().map(|w| w.factor))
                .collect::<Vec<_>>()
        };
        assert_eq!(f(28), vec![13.44, 5.6, 2.8, 0.93]);
        assert_eq!(f(30), vec![14.4, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn every_window_holds_before_it_fires() {
        let fors: Vec<_> = policies(28, true)
            .iter()
            .flat_map(|p| p.windows.iter().map(|w| w.for_))
            .collect();
        assert_eq!(fors, vec!["2m", "15m", "1h", "3h"]);
        assert_eq!(
            policies(28, false).len(),
            1,
            "page: false keeps the ticket only"
        );
    }
}
