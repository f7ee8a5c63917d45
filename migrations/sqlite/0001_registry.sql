-- The administrative tree, organisations, households and people.

CREATE TABLE unit (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    level           TEXT NOT NULL CHECK (level IN ('tinh', 'xa', 'thon')),
    kind            TEXT NOT NULL,
    parent_code     TEXT REFERENCES unit (code),
    people_count    INTEGER NOT NULL DEFAULT 0,
    household_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX unit_parent ON unit (parent_code);
CREATE UNIQUE INDEX unit_village_name ON unit (parent_code, name_key) WHERE level = 'thon';

CREATE TABLE organisation (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('co_quan', 'truong_hoc', 'doanh_nghiep', 'hop_tac_xa')),
    commune_code TEXT NOT NULL REFERENCES unit (code)
);

CREATE TABLE household (
    commune_code TEXT NOT NULL REFERENCES unit (code),
    code         TEXT NOT NULL,
    village_code TEXT NOT NULL REFERENCES unit (code),
    PRIMARY KEY (commune_code, code),
    UNIQUE (commune_code, code, village_code)
);
CREATE INDEX household_village ON household (village_code);

CREATE TABLE person (
    id                INTEGER PRIMARY KEY,
    -- Erasure clears the identifying fields and keeps the rest for the aggregates.
    cccd_hash         BLOB,
    cccd_enc          BLOB,
    full_name         TEXT,
    birth_date        TEXT,
    birth_year        INTEGER NOT NULL,
    sex               TEXT NOT NULL CHECK (sex IN ('nam', 'nu')),
    ethnicity         TEXT,
    phone             TEXT,
    commune_code      TEXT NOT NULL,
    village_code      TEXT NOT NULL,
    household_code    TEXT NOT NULL,
    target_groups     INTEGER NOT NULL,
    school_level      TEXT CHECK (school_level IN ('tieu_hoc', 'thcs', 'thpt', 'dai_hoc')),
    organisation_code TEXT REFERENCES organisation (code),
    erased_at         TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- A person lives in their household's village: the database itself keeps it so,
    -- and moving a household moves its members.
    FOREIGN KEY (commune_code, household_code, village_code)
        REFERENCES household (commune_code, code, village_code) ON UPDATE CASCADE
);
-- A person is found by the keyed hash of their citizen number.
CREATE UNIQUE INDEX person_cccd_hash ON person (cccd_hash);
-- Serves counting by village and the household foreign key (its cascade) at once.
CREATE INDEX person_village ON person (village_code, household_code, commune_code);

CREATE TABLE person_history (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES person (id),
    from_village TEXT NOT NULL,
    to_village   TEXT NOT NULL,
    changed_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX person_history_person ON person_history (person_id);

CREATE TRIGGER person_moved AFTER UPDATE OF village_code ON person
WHEN OLD.village_code IS NOT NEW.village_code
BEGIN
    INSERT INTO person_history (person_id, from_village, to_village)
    VALUES (OLD.id, OLD.village_code, NEW.village_code);
END;
