-- Daily delay statistics per origin, kept equal to what recomputing them from `flights` gives:
-- statement triggers on `flights` move each changed flight's contribution from its old
-- (origin, day, status, delay) to its new one, in the writing transaction, whoever writes
-- (the batch writer, an older build, a manual fix). `/v1/stats/delays` reads at most one row
-- per day. Expand-only: an older build keeps writing `flights` and reading its own query.

CREATE TABLE delay_rollups (
    origin          char(3) NOT NULL,
    -- UTC day of the scheduled departure.
    day             date    NOT NULL,
    flights         bigint  NOT NULL,
    -- Status departed or arrived.
    departed        bigint  NOT NULL,
    cancelled       bigint  NOT NULL,
    -- Departed at most 15 minutes late (a missing delay counts as 0, as in the endpoint).
    on_time         bigint  NOT NULL,
    delay_sum       bigint  NOT NULL,
    -- Departed flights per whole minute of delay: element i counts delay i - 1, for delays under
    -- 1440 minutes; trailing zeros trimmed.
    delay_histogram int4[]  NOT NULL,
    -- Delays of 1440 minutes or more, one element per departed flight, ascending: the
    -- histogram's overflow kept exactly, so the 95th percentile is exact whatever the delays.
    long_delays     int4[]  NOT NULL,
    PRIMARY KEY (origin, day)
);

-- One flight's contribution entering (+1) or leaving (-1) a day.
CREATE TYPE delay_rollup_move AS (origin char(3), day date, sign int4, status text, delay int4);

-- A histogram with `signs[i]` added at minute `delays[i]` (trailing zeros trimmed).
CREATE FUNCTION delay_histogram_add(histogram int4[], delays int4[], signs int4[])
RETURNS int4[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result int4[] := coalesce(histogram, '{}');
    len int := cardinality(result);
    longest int := (SELECT max(d) + 1 FROM unnest(delays) AS d);
    i int;
BEGIN
    IF longest > len THEN
        result := result || array_fill(0, ARRAY[longest - len]);
        len := longest;
    END IF;
    FOR i IN 1 .. coalesce(cardinality(delays), 0) LOOP
        result[delays[i] + 1] := result[delays[i] + 1] + signs[i];
    END LOOP;
    WHILE len > 0 AND result[len] = 0 LOOP
        len := len - 1;
    END LOOP;
    RETURN result[1:len];
END $$;

-- Element-wise sum of two histograms (the zeros of `delta` cost a comparison each).
CREATE FUNCTION delay_histogram_merge(histogram int4[], delta int4[])
RETURNS int4[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result int4[] := coalesce(histogram, '{}');
    len int := cardinality(result);
    i int;
BEGIN
    IF cardinality(delta) > len THEN
        result := result || array_fill(0, ARRAY[cardinality(delta) - len]);
        len := cardinality(delta);
    END IF;
    FOR i IN 1 .. coalesce(cardinality(delta), 0) LOOP
        IF delta[i] <> 0 THEN
            result[i] := result[i] + delta[i];
        END IF;
    END LOOP;
    WHILE len > 0 AND result[len] = 0 LOOP
        len := len - 1;
    END LOOP;
    RETURN result[1:len];
END $$;

-- `long_delays` with each positive element of `delta` added and, for each negative one, one
-- occurrence of its absolute value removed; ascending.
CREATE FUNCTION long_delays_merge(long_delays int4[], delta int4[])
RETURNS int4[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result int4[] := coalesce(long_delays, '{}');
    change int4;
    at int;
BEGIN
    IF coalesce(cardinality(delta), 0) = 0 THEN
        RETURN result;
    END IF;
    FOREACH change IN ARRAY delta LOOP
        IF change > 0 THEN
            result := result || change;
        ELSE
            at := array_position(result, -change);
            IF at IS NOT NULL THEN
                result := result[1:at - 1] || result[at + 1:];
            END IF;
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT d FROM unnest(result) AS d ORDER BY d);
END $$;

-- Applies contributions entering and leaving days: the one place the rollup changes (the
-- triggers below and delay_rollups_rebuild call it). Rows are upserted in (origin, day) order,
-- so concurrent writers lock them in the same order.
CREATE FUNCTION delay_rollups_move(moves delay_rollup_move[])
RETURNS void LANGUAGE sql AS $$
    WITH m AS (
        SELECT origin, day, sign, status, delay, status IN ('departed', 'arrived') AS departed
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
                 coalesce(sum(sign) FILTER (WHERE status = 'cancelled'), 0) AS cancelled,
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
        long_delays = long_delays_merge(r.long_delays, EXCLUDED.long_delays)
$$;

-- The statement's old and new flight rows as moves; synthetic probe flights stay out, as they
-- do from the endpoint.
CREATE FUNCTION delay_rollups_follow_flights() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moves delay_rollup_move[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        moves := moves || ARRAY(
            SELECT ROW(origin, (scheduled_departure AT TIME ZONE 'UTC')::date, -1, status,
                       coalesce(delay_minutes, 0))::delay_rollup_move
            FROM old_flights WHERE flight_id NOT LIKE 'PROBE-%');
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        moves := moves || ARRAY(
            SELECT ROW(origin, (scheduled_departure AT TIME ZONE 'UTC')::date, 1, status,
                       coalesce(delay_minutes, 0))::delay_rollup_move
            FROM new_flights WHERE flight_id NOT LIKE 'PROBE-%');
    END IF;
    IF cardinality(moves) > 0 THEN
        PERFORM delay_rollups_move(moves);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER delay_rollups_after_insert AFTER INSERT ON flights
    REFERENCING NEW TABLE AS new_flights
    FOR EACH STATEMENT EXECUTE FUNCTION delay_rollups_follow_flights();
CREATE TRIGGER delay_rollups_after_update AFTER UPDATE ON flights
    REFERENCING OLD TABLE AS old_flights NEW TABLE AS new_flights
    FOR EACH STATEMENT EXECUTE FUNCTION delay_rollups_follow_flights();
CREATE TRIGGER delay_rollups_after_delete AFTER DELETE ON flights
    REFERENCING OLD TABLE AS old_flights
    FOR EACH STATEMENT EXECUTE FUNCTION delay_rollups_follow_flights();

-- Recomputes every rollup from `flights` through the same function the triggers use. Writers of
-- `flights` wait for it (SHARE ROW EXCLUSIVE conflicts with their ROW EXCLUSIVE) and their
-- triggers then apply on top of the rebuilt rows, so no write is missed or counted twice;
-- readers of the rollup keep reading the old rows until commit. Returns the flights counted.
CREATE FUNCTION delay_rollups_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    moves delay_rollup_move[];
BEGIN
    LOCK TABLE flights IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM delay_rollups;
    moves := ARRAY(
        SELECT ROW(origin, (scheduled_departure AT TIME ZONE 'UTC')::date, 1, status,
                   coalesce(delay_minutes, 0))::delay_rollup_move
        FROM flights WHERE flight_id NOT LIKE 'PROBE-%');
    IF cardinality(moves) > 0 THEN
        PERFORM delay_rollups_move(moves);
    END IF;
    RETURN cardinality(moves);
END $$;

-- Backfill, inside the migration's transaction (which holds the migration advisory lock): the
-- triggers above exist from here on, and the lock makes writers wait until the rollup is whole.
SELECT delay_rollups_rebuild();
