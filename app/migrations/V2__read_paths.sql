-- Origin + status is the commonest combined filter of the feed: one index range scan for it.
CREATE INDEX flight_events_origin_status_feed_idx
    ON flight_events (origin, status, event_time DESC, event_id DESC);

-- Flight state changes on every event. Keeping the statistics index to columns that never
-- change after a flight is created (and leaving free space on each page) lets PostgreSQL
-- update state rows in place (HOT updates) instead of touching the index each time.
DROP INDEX flights_origin_day_idx;
CREATE INDEX flights_origin_day_idx ON flights (origin, scheduled_departure);
ALTER TABLE flights SET (fillfactor = 70);
