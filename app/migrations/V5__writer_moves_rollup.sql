-- The batch writer moves the daily rollup itself: it locks the flights its batch touches, so it
-- knows each one's old contribution, and it applies the batch's net moves through
-- delay_rollups_move (V4), the one place the rollup changes. Its transactions set
-- `flightdeck.writer_moves_rollup = on`, and the insert and update triggers skip their
-- statements; every other writer of `flights` (an older build, a manual fix, a bulk load) leaves
-- the setting unset and the triggers follow it as before. Expand-only: a build older than this
-- migration never sets the setting, so its writes keep moving the rollup through the triggers.

DROP TRIGGER delay_rollups_after_insert ON flights;
DROP TRIGGER delay_rollups_after_update ON flights;

CREATE TRIGGER delay_rollups_after_insert AFTER INSERT ON flights
    REFERENCING NEW TABLE AS new_flights
    FOR EACH STATEMENT
    WHEN (current_setting('flightdeck.writer_moves_rollup', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION delay_rollups_follow_flights();
CREATE TRIGGER delay_rollups_after_update AFTER UPDATE ON flights
    REFERENCING OLD TABLE AS old_flights NEW TABLE AS new_flights
    FOR EACH STATEMENT
    WHEN (current_setting('flightdeck.writer_moves_rollup', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION delay_rollups_follow_flights();

-- Contract step for V2's statistics index: since V4 the statistics read delay_rollups, and no
-- build that may still run (this one, or the V4 build it replaces) reads flights by origin and
-- day. Every new flight paid for its entry.
DROP INDEX flights_origin_day_idx;
