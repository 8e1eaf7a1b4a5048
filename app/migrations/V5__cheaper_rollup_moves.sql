-- Contract step for V2's statistics index: since V4 the statistics read delay_rollups, and no
-- build that may still run (this one, or the V4 build it replaces) reads flights by origin and
-- day. Every new flight paid for its entry.
DROP INDEX flights_origin_day_idx;

-- What the rollup reads of a flight's status: departed (or arrived), cancelled, or neither (the
-- flight counts, nothing more). The triggers and delay_rollups_move below classify through it.
CREATE FUNCTION delay_rollup_class(status text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status IN ('departed', 'arrived') THEN 'departed'
                WHEN status = 'cancelled' THEN 'cancelled'
                ELSE 'scheduled' END
$$;

-- The delay the rollup reads of a flight: its delay when departed (a missing one as 0), else 0.
CREATE FUNCTION delay_rollup_delay(status text, delay_minutes int4) RETURNS int4
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN delay_rollup_class(status) = 'departed' THEN coalesce(delay_minutes, 0)
                ELSE 0 END
$$;

-- The triggers' moves, netted before they reach delay_rollups_move: each statement's old and new
-- rows are grouped by what the rollup reads of them (origin, day, class, delay when departed),
-- so a flight that changes nothing the rollup reads (scheduled -> boarding -> delayed, a new
-- estimate before departure) cancels out here instead of costing a move. Same rollup, fewer
-- moves: a batch of 1,000 events moved about 1,800 flight contributions one by one.
CREATE OR REPLACE FUNCTION delay_rollups_follow_flights() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moves delay_rollup_move[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        moves := moves || ARRAY(
            SELECT ROW(origin, day, -count(*)::int4, class, delay)::delay_rollup_move
            FROM (SELECT origin, (scheduled_departure AT TIME ZONE 'UTC')::date AS day,
                         delay_rollup_class(status) AS class,
                         delay_rollup_delay(status, delay_minutes) AS delay
                  FROM old_flights WHERE flight_id NOT LIKE 'PROBE-%') AS o
            GROUP BY origin, day, class, delay);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        moves := moves || ARRAY(
            SELECT ROW(origin, day, count(*)::int4, class, delay)::delay_rollup_move
            FROM (SELECT origin, (scheduled_departure AT TIME ZONE 'UTC')::date AS day,
                         delay_rollup_class(status) AS class,
                         delay_rollup_delay(status, delay_minutes) AS delay
                  FROM new_flights WHERE flight_id NOT LIKE 'PROBE-%') AS n
            GROUP BY origin, day, class, delay);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        moves := ARRAY(
            SELECT ROW(origin, day, sum(sign)::int4, status, delay)::delay_rollup_move
            FROM unnest(moves) GROUP BY origin, day, status, delay HAVING sum(sign) <> 0);
    END IF;
    IF cardinality(moves) > 0 THEN
        PERFORM delay_rollups_move(moves);
    END IF;
    RETURN NULL;
END $$;

-- delay_rollups_move as V4 wrote it, in PL/pgSQL, classifying through delay_rollup_class: a SQL
-- function's statement is planned again on every call (about 1 ms each, and every batch calls it
-- twice, from the insert and the update trigger), a PL/pgSQL statement's plan is kept for the
-- session.
CREATE OR REPLACE FUNCTION delay_rollups_move(moves delay_rollup_move[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH m AS (
        SELECT origin, day, sign, delay_rollup_class(status) AS class, delay,
               delay_rollup_class(status) = 'departed' AS departed
        FROM unnest(moves)
    ),
    -- Net change per minute of delay: a flight that changes without moving its delay cancels out.
    minutes AS (
        SELECT origin, day, delay, sum(sign)::int4 AS net
        FROM m WHERE departed
        GROUP BY origin, day, delay HAVING sum(sign) <> 0
    ),
    delays AS (
        SELECT origin, day,
               delay_histogram_add('{}', array_agg(delay) FILTER (WHERE delay < 1440),
                                         array_agg(net) FILTER (WHERE delay < 1440)) AS histogram,
               -- +d enters, -d leaves (d >= 1440, so the sign is unambiguous).
               array_agg(delay * sign(net)::int4 ORDER BY delay)
                   FILTER (WHERE delay >= 1440) AS long_delays,
               array_agg(abs(net) ORDER BY delay) FILTER (WHERE delay >= 1440) AS repeats
        FROM minutes GROUP BY origin, day
    )
    INSERT INTO delay_rollups AS r (origin, day, flights, departed, cancelled, on_time, delay_sum,
                                    delay_histogram, long_delays)
    SELECT t.origin, t.day, t.flights, t.departed, t.cancelled, t.on_time, t.delay_sum,
           coalesce(d.histogram, '{}'),
           coalesce((SELECT array_agg(l.v) FROM unnest(d.long_delays, d.repeats) AS l(v, n),
                     generate_series(1, l.n)), '{}')
    FROM (SELECT origin, day, sum(sign) AS flights,
                 coalesce(sum(sign) FILTER (WHERE departed), 0) AS departed,
                 coalesce(sum(sign) FILTER (WHERE class = 'cancelled'), 0) AS cancelled,
                 coalesce(sum(sign) FILTER (WHERE departed AND delay <= 15), 0) AS on_time,
                 coalesce(sum(sign::int8 * delay) FILTER (WHERE departed), 0) AS delay_sum
          FROM m GROUP BY origin, day) AS t
    LEFT JOIN delays AS d USING (origin, day)
    ORDER BY t.origin, t.day
    ON CONFLICT (origin, day) DO UPDATE SET
        flights = r.flights + EXCLUDED.flights,
        departed = r.departed + EXCLUDED.departed,
        cancelled = r.cancelled + EXCLUDED.cancelled,
        on_time = r.on_time + EXCLUDED.on_time,
        delay_sum = r.delay_sum + EXCLUDED.delay_sum,
        delay_histogram = delay_histogram_merge(r.delay_histogram, EXCLUDED.delay_histogram),
        long_delays = long_delays_merge(r.long_delays, EXCLUDED.long_delays);
END $$;
