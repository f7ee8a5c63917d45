-- The learning assistant (issue 23): the FAQ editors keep, the questions it could not answer (or
-- that learners marked unhelpful), stored without the asker's identity, item parameters for the
-- adaptive placement test, the placements and each learner's estimated level per competence.
-- Times are Unix seconds (UTC).

CREATE TABLE assistant_faq (
    id          INTEGER PRIMARY KEY,
    -- The key of a built-in entry (data-builtin/assistant-faq.toml); NULL for an editor's own.
    builtin_key TEXT UNIQUE,
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    -- Codes of data/framework.toml, separated by spaces.
    themes      TEXT NOT NULL,
    competences TEXT NOT NULL,
    hidden_at   INTEGER,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT REFERENCES account (id)
);

-- No account, no address, no session: the text (citizen and phone numbers stripped) and what came of it.
CREATE TABLE assistant_question (
    id           TEXT PRIMARY KEY,
    asked_at     INTEGER NOT NULL,
    question     TEXT NOT NULL,
    group_key    TEXT NOT NULL,
    answered     INTEGER NOT NULL,
    top_lesson   TEXT,
    unhelpful_at INTEGER,
    resolved_at  INTEGER
);
CREATE INDEX assistant_question_open ON assistant_question (group_key) WHERE resolved_at IS NULL;

-- 2PL parameters fitted by `hocvuso assessment calibrate`; an item without a row uses the default
-- from its difficulty.
CREATE TABLE item_param (
    item_id        TEXT PRIMARY KEY REFERENCES item (id),
    discrimination REAL NOT NULL,
    location       REAL NOT NULL,
    answers        INTEGER NOT NULL,
    fitted_at      INTEGER NOT NULL
);

CREATE TABLE placement (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES account (id),
    domain      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    theta       REAL NOT NULL,
    se          REAL NOT NULL,
    -- JSON: the items asked, in order, with their answers.
    state       TEXT NOT NULL
);
CREATE INDEX placement_account ON placement (account_id, started_at);

-- A learner's estimated level per competence, from a placement (never a certificate).
CREATE TABLE learner_level (
    account_id TEXT NOT NULL REFERENCES account (id),
    competence TEXT NOT NULL,
    theta      REAL NOT NULL,
    se         REAL NOT NULL,
    mastered   INTEGER NOT NULL,
    placed_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, competence)
);
