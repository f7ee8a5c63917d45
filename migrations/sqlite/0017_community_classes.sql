-- Community models, part B (issue 22): weekly community classes and their attendance, events (the
-- 10/10 day), digital families (household heads and members' consent), the 4T market program,
-- volunteers and recognition. People appear by internal id only: names and citizen numbers stay on
-- the person row, so erasing a person erases them here too and every count survives.

CREATE TABLE community_class (
    id           INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL REFERENCES unit (code),
    title        TEXT NOT NULL,
    -- Lesson slugs, separated by spaces.
    lessons      TEXT NOT NULL DEFAULT '',
    place        TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    teacher      TEXT NOT NULL,
    audience     TEXT NOT NULL
        CHECK (audience IN ('moi_nguoi', 'nguoi_cao_tuoi', 'nguoi_khuyet_tat', 'dan_toc_thieu_so', 'tieu_thuong')),
    created_by   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX community_class_commune ON community_class (commune_code);

CREATE TABLE class_session (
    id           INTEGER PRIMARY KEY,
    class_id     INTEGER NOT NULL REFERENCES community_class (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    held_on      TEXT NOT NULL,
    -- The Monday of the session's ISO week, as YYYY-MM-DD: the weekly rule counts by it.
    week_of      TEXT NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (class_id, held_on)
);
CREATE INDEX class_session_week ON class_session (commune_code, week_of);

CREATE TABLE class_attendance (
    session_id  INTEGER NOT NULL REFERENCES class_session (id),
    person_id   INTEGER NOT NULL REFERENCES person (id),
    method      TEXT NOT NULL CHECK (method IN ('qr', 'cccd')),
    recorded_by TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX class_attendance_person ON class_attendance (person_id);

CREATE TABLE community_event (
    id         INTEGER PRIMARY KEY,
    -- The province ('25') for a province-wide event, or a commune.
    unit_code  TEXT NOT NULL REFERENCES unit (code),
    kind       TEXT NOT NULL CHECK (kind IN ('ngay_hoi_10_10', 'khac')),
    title      TEXT NOT NULL,
    held_on    TEXT NOT NULL,
    place      TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE event_participant (
    event_id      INTEGER NOT NULL REFERENCES community_event (id),
    person_id     INTEGER NOT NULL REFERENCES person (id),
    -- The participant's commune when they registered: counts by commune.
    commune_code  TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    checked_in_at INTEGER,
    checked_by    TEXT,
    PRIMARY KEY (event_id, person_id)
);
CREATE INDEX event_participant_person ON event_participant (person_id);

CREATE TABLE household_head (
    commune_code   TEXT NOT NULL,
    household_code TEXT NOT NULL,
    person_id      INTEGER NOT NULL REFERENCES person (id),
    set_by         TEXT,
    set_at         INTEGER NOT NULL,
    PRIMARY KEY (commune_code, household_code),
    FOREIGN KEY (commune_code, household_code) REFERENCES household (commune_code, code)
);

-- An adult member lets the household head see their progress; revoking deletes the row (the audit
-- log keeps both acts).
CREATE TABLE family_consent (
    person_id  INTEGER PRIMARY KEY REFERENCES person (id),
    granted_at INTEGER NOT NULL
);

CREATE TABLE market (
    id           INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL REFERENCES unit (code),
    name         TEXT NOT NULL,
    place        TEXT NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX market_commune ON market (commune_code);

CREATE TABLE market_trader (
    market_id     INTEGER NOT NULL REFERENCES market (id),
    person_id     INTEGER NOT NULL REFERENCES person (id),
    stall         TEXT NOT NULL DEFAULT '',
    registered_by TEXT,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (market_id, person_id)
);
CREATE INDEX market_trader_person ON market_trader (person_id);

-- A module recorded by the trainer; lessons tagged with a module count without a row here.
CREATE TABLE trader_module (
    person_id   INTEGER NOT NULL REFERENCES person (id),
    module      TEXT NOT NULL
        CHECK (module IN ('tieu_thuong_so', 'thuong_mai_dien_tu', 'thanh_toan_khong_tien_mat', 'tiet_kiem_so')),
    recorded_by TEXT,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, module)
);

-- Which lessons teach which 4T module.
CREATE TABLE market_module_lesson (
    module      TEXT NOT NULL
        CHECK (module IN ('tieu_thuong_so', 'thuong_mai_dien_tu', 'thanh_toan_khong_tien_mat', 'tiet_kiem_so')),
    lesson_slug TEXT NOT NULL REFERENCES lesson (slug),
    PRIMARY KEY (module, lesson_slug)
);

CREATE TABLE volunteer (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES person (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    organisation TEXT NOT NULL
        CHECK (organisation IN ('doan_thanh_nien', 'hoi_phu_nu', 'hoi_nong_dan', 'hoi_cuu_chien_binh', 'khac')),
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (person_id, commune_code)
);
CREATE INDEX volunteer_commune ON volunteer (commune_code);

CREATE TABLE volunteer_activity (
    id                INTEGER PRIMARY KEY,
    volunteer_id      INTEGER NOT NULL REFERENCES volunteer (id),
    done_on           TEXT NOT NULL,
    minutes           INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    classes_taught    INTEGER NOT NULL DEFAULT 0 CHECK (classes_taught >= 0),
    households_helped INTEGER NOT NULL DEFAULT 0 CHECK (households_helped >= 0),
    recorded_by       TEXT,
    recorded_at       INTEGER NOT NULL
);
CREATE INDEX volunteer_activity_volunteer ON volunteer_activity (volunteer_id);

-- Recognition (IV.2.2): a person (by id) or a collective (by name), proposed by a commune,
-- approved or refused by the province.
CREATE TABLE nomination (
    id           INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL REFERENCES unit (code),
    kind         TEXT NOT NULL CHECK (kind IN ('ca_nhan', 'tap_the')),
    person_id    INTEGER REFERENCES person (id),
    collective   TEXT,
    achievement  TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'cho_duyet' CHECK (status IN ('cho_duyet', 'da_duyet', 'tu_choi')),
    proposed_by  TEXT,
    proposed_at  INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    CHECK ((kind = 'ca_nhan' AND person_id IS NOT NULL) OR (kind = 'tap_the' AND collective IS NOT NULL))
);
CREATE INDEX nomination_commune ON nomination (commune_code, status);
