-- Append-only event log: one row per distinct event_id (the idempotency key).
CREATE TABLE flight_events (
    event_id            uuid        PRIMARY KEY,
    flight_id           text        NOT NULL CHECK (flight_id ~ '^[A-Za-z0-9-]{1,64}$'),
    airline             text        NOT NULL CHECK (airline ~ '^[A-Z0-9]{2,3}$'),
    flight_number       text        NOT NULL CHECK (flight_number ~ '^[0-9]{1,5}$'),
    origin              char(3)     NOT NULL CHECK (origin ~ '^[A-Z]{3}$'),
    destination         char(3)     NOT NULL CHECK (destination ~ '^[A-Z]{3}$'),
    status              text        NOT NULL CHECK (status IN ('scheduled','boarding','departed','arrived','delayed','cancelled')),
    scheduled_departure timestamptz NOT NULL,
    actual_departure    timestamptz,
    delay_minutes       integer     CHECK (delay_minutes >= 0),
    event_time          timestamptz NOT NULL,
    published_at        timestamptz NOT NULL,
    ingested_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    message_id          text        NOT NULL
);

-- Newest-first feed with keyset pagination, unfiltered and per filter.
CREATE INDEX flight_events_feed_idx ON flight_events (event_time DESC, event_id DESC);
CREATE INDEX flight_events_origin_feed_idx ON flight_events (origin, event_time DESC, event_id DESC);
CREATE INDEX flight_events_flight_feed_idx ON flight_events (flight_id, event_time DESC, event_id DESC);
CREATE INDEX flight_events_status_feed_idx ON flight_events (status, event_time DESC, event_id DESC);

-- Current state per flight, moved forward only by a newer event.
CREATE TABLE flights (
    flight_id           text        PRIMARY KEY,
    airline             text        NOT NULL,
    flight_number       text        NOT NULL,
    origin              char(3)     NOT NULL,
    destination         char(3)     NOT NULL,
    status              text        NOT NULL,
    scheduled_departure timestamptz NOT NULL,
    actual_departure    timestamptz,
    delay_minutes       integer,
    last_event_id       uuid        NOT NULL,
    last_event_time     timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Daily delay statistics per origin scan one origin over a date range.
CREATE INDEX flights_origin_day_idx ON flights (origin, scheduled_departure)
    INCLUDE (status, delay_minutes, actual_departure);
