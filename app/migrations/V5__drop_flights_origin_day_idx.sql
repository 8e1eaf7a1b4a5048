-- Contract step for V2's statistics index: since V4 the statistics read delay_rollups, and no
-- build that may still run (this one, or the V4 build it replaces) reads flights by origin and
-- day. Every new flight paid for its entry.
DROP INDEX flights_origin_day_idx;
