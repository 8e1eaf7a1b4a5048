//! Writes the API's own SQL as pgbench scripts, so `make bench` and `make budget` compare each
//! endpoint with PostgreSQL running exactly the statements the service prepares (from
//! `flightdeck::db::queries`, not a copy). Each `NAME.sql` has `:pN` variables where the service
//! binds parameters (pgbench's prepared mode sends them as parameters too), and `NAME.vars` the
//! `-D pN=VALUE` arguments that give them the values the matching HTTP request uses.
//! Usage: bench_sql DIR FLIGHT_ID FROM TO

use flightdeck::api::events::DEFAULT_LIMIT;
use flightdeck::api::flights::LATEST_EVENTS;
use flightdeck::db::queries::{DELAY_STATS_SQL, EventFilter, FLIGHT_STATE_SQL, feed_sql};
use flightdeck::domain::FlightStatus;
use std::path::Path;

/// One pgbench script: its statements, each with `$1..$n` turned into the script's next
/// variables `:pK` (highest first, so `$1` never eats `$10`), then the variables' values.
fn write(dir: &Path, name: &str, statements: &[(String, Vec<String>)]) -> std::io::Result<()> {
    let mut script = String::new();
    let mut vars = Vec::new();
    for (sql, values) in statements {
        let first = vars.len();
        let sql = (1..=values.len()).rev().fold(sql.clone(), |sql, i| {
            sql.replace(&format!("${i}"), &format!(":p{}", first + i))
        });
        script.push_str(&sql);
        script.push_str(";\n");
        vars.extend(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("p{}={v}", first + i + 1)),
        );
    }
    std::fs::write(dir.join(format!("{name}.sql")), script)?;
    std::fs::write(dir.join(format!("{name}.vars")), vars.join("\n") + "\n")
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, flight, from, to] = args.as_slice() else {
        eprintln!("usage: bench_sql DIR FLIGHT_ID FROM TO");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    let page = |limit: i64| (limit + 1).to_string();
    // GET /v1/events?limit=50 (the default page)
    write(
        dir,
        "events",
        &[(
            feed_sql(&EventFilter::default(), false),
            vec![page(DEFAULT_LIMIT)],
        )],
    )?;
    // GET /v1/events?origin=SCL&status=departed&limit=20
    let filtered = EventFilter {
        origin: Some("SCL".into()),
        status: Some(FlightStatus::Departed),
        flight_id: None,
    };
    write(
        dir,
        "filtered",
        &[(
            feed_sql(&filtered, false),
            vec![
                "SCL".into(),
                FlightStatus::Departed.as_str().into(),
                page(20),
            ],
        )],
    )?;
    // GET /v1/flights/{flight}: the state and the latest events, pipelined by the service.
    let by_flight = EventFilter {
        flight_id: Some(flight.clone()),
        ..EventFilter::default()
    };
    write(
        dir,
        "flight",
        &[
            (FLIGHT_STATE_SQL.to_string(), vec![flight.clone()]),
            (
                feed_sql(&by_flight, false),
                vec![flight.clone(), page(LATEST_EVENTS)],
            ),
        ],
    )?;
    // GET /v1/stats/delays?origin=SCL&from=FROM&to=TO
    write(
        dir,
        "stats",
        &[(
            DELAY_STATS_SQL.to_string(),
            vec!["SCL".into(), from.clone(), to.clone()],
        )],
    )
}
