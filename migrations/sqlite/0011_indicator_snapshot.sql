-- Quarterly snapshots of the indicator counters, for trends and reports: a copy of
-- indicator_count taken once per quarter (at its end by the server, or on demand). The primary
-- key makes a second take of the same quarter a no-op, however many servers race to take it.
CREATE TABLE indicator_snapshot (
    quarter     TEXT NOT NULL CHECK (length(quarter) = 6),
    unit_code   TEXT NOT NULL REFERENCES unit (code),
    year        INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    numerator   INTEGER NOT NULL,
    denominator INTEGER NOT NULL,
    taken_at    INTEGER NOT NULL,
    PRIMARY KEY (quarter, unit_code, year, indicator)
);
CREATE INDEX indicator_snapshot_unit ON indicator_snapshot (unit_code, year, indicator);
