-- Movement tracking: a person's facts for the plan's indicators, each with its date and source, on
-- the person's own row (one place, and a bulk roster load writes no second row), and per-unit
-- counters kept current in the transaction that changes a fact (`src/tracking/`).

-- The first lesson completed.
ALTER TABLE person ADD COLUMN learned_at INTEGER;
-- Profiles with a valid (not revoked) certificate, as target-group bits; `passed_groups` keeps every pass.
ALTER TABLE person ADD COLUMN certified_groups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE person ADD COLUMN vneid_level INTEGER;
ALTER TABLE person ADD COLUMN vneid_level_source TEXT
    CHECK (vneid_level_source IN ('vneid_login', 'staff', 'team_visit', 'self_declared'));
ALTER TABLE person ADD COLUMN vneid_level_at INTEGER;
-- 1: has a digital bank account, 0: has none, NULL: not known.
ALTER TABLE person ADD COLUMN bank_account INTEGER CHECK (bank_account IN (0, 1));
ALTER TABLE person ADD COLUMN bank_source TEXT
    CHECK (bank_source IN ('vneid_login', 'staff', 'team_visit', 'self_declared'));
ALTER TABLE person ADD COLUMN bank_at INTEGER;

UPDATE person SET certified_groups = coalesce((
    SELECT sum(DISTINCT CASE c.target_group WHEN 'nguoi_dan' THEN 1 WHEN 'can_bo' THEN 2
                                            WHEN 'hoc_sinh_sinh_vien' THEN 4 WHEN 'nguoi_lao_dong' THEN 8 ELSE 0 END)
    FROM certificate c WHERE c.person_id = person.id AND c.revoked_at IS NULL), 0);
UPDATE person SET learned_at = (
    SELECT min(pr.completed_at) FROM progress pr JOIN account a ON a.id = pr.account_id WHERE a.person_id = person.id);
UPDATE person SET vneid_level = a.identity_level, vneid_level_source = 'vneid_login', vneid_level_at = a.created_at
    FROM account a WHERE a.person_id = person.id AND a.identity_level IS NOT NULL;

-- Per unit (village, commune, province), year and indicator. A missing row counts zero.
CREATE TABLE indicator_count (
    unit_code   TEXT NOT NULL REFERENCES unit (code),
    year        INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    numerator   INTEGER NOT NULL DEFAULT 0,
    denominator INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (unit_code, year, indicator)
);

-- The province's target for one unit and year, instead of the plan's.
CREATE TABLE indicator_target (
    unit_code TEXT NOT NULL REFERENCES unit (code),
    year      INTEGER NOT NULL,
    indicator TEXT NOT NULL,
    target    REAL NOT NULL CHECK (target >= 0 AND target <= 1),
    set_by    TEXT REFERENCES account (id),
    set_at    INTEGER NOT NULL,
    PRIMARY KEY (unit_code, year, indicator)
);
