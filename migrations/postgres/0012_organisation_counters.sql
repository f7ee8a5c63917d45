-- Per-organisation counters (agencies, schools, enterprises, cooperatives): the indicators of the people who work or
-- study there, wherever they live, kept current in the same transaction as the per-unit counters (`src/tracking/`).
CREATE TABLE organisation_indicator_count (
    organisation_code TEXT NOT NULL REFERENCES organisation (code),
    year              BIGINT NOT NULL,
    indicator         TEXT NOT NULL,
    numerator         BIGINT NOT NULL DEFAULT 0,
    denominator       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_code, year, indicator)
);
-- The recount of an organisation reads only its people.
CREATE INDEX person_organisation ON person (organisation_code) WHERE organisation_code IS NOT NULL;
