//! Multi-window, multi-burn-rate alerting policy (Google SRE workbook, chapter 5).

/// One alert condition: both windows burn faster than `factor` times the budget.
pub struct BurnWindow {
    pub long: &'static str,
    pub short: &'static str,
    pub long_seconds: u32,
    pub short_seconds: u32,
    pub factor: f64,
}

/// A severity and the conditions (OR-ed) that raise it.
pub struct BurnPolicy {
    pub alert: &'static str,
    pub severity: &'static str,
    pub windows: [BurnWindow; 2],
}

/// Page: 2% of a 30-day budget in 1 h or 5% in 6 h. Ticket: 10% in 1 d or 10% in 3 d.
pub const POLICIES: [BurnPolicy; 2] = [
    BurnPolicy {
        alert: "SLOBurnRatePage",
        severity: "page",
        windows: [
            BurnWindow {
                long: "1h",
                short: "5m",
                long_seconds: 3600,
                short_seconds: 300,
                factor: 14.4,
            },
            BurnWindow {
                long: "6h",
                short: "30m",
                long_seconds: 21600,
                short_seconds: 1800,
                factor: 6.0,
            },
        ],
    },
    BurnPolicy {
        alert: "SLOBurnRateTicket",
        severity: "ticket",
        windows: [
            BurnWindow {
                long: "1d",
                short: "2h",
                long_seconds: 86400,
                short_seconds: 7200,
                factor: 3.0,
            },
            BurnWindow {
                long: "3d",
                short: "6h",
                long_seconds: 259200,
                short_seconds: 21600,
                factor: 1.0,
            },
        ],
    },
];

/// Every window a recording rule is written for (alerts and dashboards use them).
pub const WINDOWS: [&str; 8] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"];
