-- Community models, part A (issue 22): community tech teams and their door-to-door visits, digital
-- ambassadors with their mentees and mentoring sessions, one-stop support staff and the citizens they
-- helped. Times are Unix seconds; days are ISO dates (YYYY-MM-DD) in Vietnam's time.

CREATE TABLE tech_team (
    id           INTEGER PRIMARY KEY,
    commune_code TEXT NOT NULL REFERENCES unit (code),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX tech_team_commune ON tech_team (commune_code);

CREATE TABLE tech_team_member (
    team_id    INTEGER NOT NULL REFERENCES tech_team (id),
    account_id TEXT NOT NULL REFERENCES account (id),
    PRIMARY KEY (team_id, account_id)
);
CREATE INDEX tech_team_member_account ON tech_team_member (account_id);

CREATE TABLE tech_team_village (
    team_id      INTEGER NOT NULL REFERENCES tech_team (id),
    village_code TEXT NOT NULL REFERENCES unit (code),
    PRIMARY KEY (team_id, village_code)
);

-- One door-to-door visit. `id` is the UUID the phone made: the same id with the same content
-- (`content_hash`, SHA-256 of the canonical content) is a harmless resend, with another a conflict.
-- `done` holds the bits of what was done (see `community::visits::Done`).
CREATE TABLE team_visit (
    id             TEXT PRIMARY KEY,
    team_id        INTEGER NOT NULL REFERENCES tech_team (id),
    commune_code   TEXT NOT NULL,
    village_code   TEXT NOT NULL REFERENCES unit (code),
    household_code TEXT NOT NULL,
    visited_on     TEXT NOT NULL,
    done           INTEGER NOT NULL DEFAULT 0,
    still_needed   TEXT,
    next_visit_on  TEXT,
    content_hash   TEXT NOT NULL,
    recorded_by    TEXT NOT NULL REFERENCES account (id),
    recorded_at    INTEGER NOT NULL,
    FOREIGN KEY (commune_code, household_code) REFERENCES household (commune_code, code)
);
CREATE INDEX team_visit_team ON team_visit (team_id, visited_on);
CREATE INDEX team_visit_household ON team_visit (commune_code, household_code);

-- Who was present, and what the visit confirmed for them.
CREATE TABLE team_visit_person (
    visit_id     TEXT NOT NULL REFERENCES team_visit (id),
    person_id    INTEGER NOT NULL REFERENCES person (id),
    vneid_level2 INTEGER NOT NULL DEFAULT 0 CHECK (vneid_level2 IN (0, 1)),
    bank_account INTEGER NOT NULL DEFAULT 0 CHECK (bank_account IN (0, 1)),
    PRIMARY KEY (visit_id, person_id)
);
CREATE INDEX team_visit_person_person ON team_visit_person (person_id);

-- A digital ambassador (an account with the role dai_su_so) and the people they mentor.
CREATE TABLE mentee (
    mentor_id   TEXT NOT NULL REFERENCES account (id),
    person_id   INTEGER NOT NULL REFERENCES person (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (mentor_id, person_id)
);
CREATE INDEX mentee_person ON mentee (person_id);
CREATE INDEX mentee_commune ON mentee (commune_code);

CREATE TABLE mentoring_session (
    id         INTEGER PRIMARY KEY,
    mentor_id  TEXT NOT NULL REFERENCES account (id),
    person_id  INTEGER NOT NULL REFERENCES person (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    held_on    TEXT NOT NULL,
    learned    TEXT,
    lessons    TEXT NOT NULL DEFAULT '',
    recorded_at INTEGER NOT NULL
);
CREATE INDEX mentoring_session_person ON mentoring_session (person_id, held_on);
CREATE INDEX mentoring_session_mentor ON mentoring_session (mentor_id, held_on);

-- One-stop support staff (role ho_tro_mot_cua): the hours they serve at the commune's desk.
CREATE TABLE one_stop_desk (
    account_id   TEXT NOT NULL REFERENCES account (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    hours        TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, commune_code)
);

-- A citizen helped with an administrative procedure. `person_id` when the citizen is in the registry.
CREATE TABLE one_stop_help (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES account (id),
    commune_code TEXT NOT NULL REFERENCES unit (code),
    person_id    INTEGER REFERENCES person (id),
    helped_on    TEXT NOT NULL,
    procedure_name TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('xong', 'huong_dan', 'chua_xong')),
    note         TEXT,
    recorded_at  INTEGER NOT NULL
);
CREATE INDEX one_stop_help_commune ON one_stop_help (commune_code, helped_on);
CREATE INDEX one_stop_help_person ON one_stop_help (person_id);
