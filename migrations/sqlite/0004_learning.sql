-- Learning: the competence framework by version, programs → courses → modules → lessons, lesson
-- versions, media, progress, the learning record store (xAPI statements) and news.
-- Times are Unix seconds (UTC) unless the column says milliseconds.

-- Every imported version of the framework is kept: results name the version they were graded with.
CREATE TABLE framework_version (
    version     TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    seq         INTEGER NOT NULL UNIQUE
);

CREATE TABLE program (
    code         TEXT PRIMARY KEY,
    target_group TEXT NOT NULL,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    position     INTEGER NOT NULL
);

CREATE TABLE course (
    code         TEXT PRIMARY KEY,
    program_code TEXT NOT NULL REFERENCES program (code),
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    sequential   INTEGER NOT NULL DEFAULT 0,
    position     INTEGER NOT NULL
);

CREATE TABLE course_module (
    code        TEXT PRIMARY KEY,
    course_code TEXT NOT NULL REFERENCES course (code),
    title       TEXT NOT NULL,
    position    INTEGER NOT NULL
);

CREATE TABLE lesson (
    slug              TEXT PRIMARY KEY,
    -- NULL: not published (never, or unpublished by an editor).
    published_version INTEGER,
    -- The editor's working copy (JSON of the lesson source), NULL when it equals the last version.
    draft             TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE module_lesson (
    module_code TEXT NOT NULL REFERENCES course_module (code),
    lesson_slug TEXT NOT NULL REFERENCES lesson (slug),
    position    INTEGER NOT NULL,
    PRIMARY KEY (module_code, lesson_slug)
);
CREATE INDEX module_lesson_lesson ON module_lesson (lesson_slug);

-- A published version never changes: a learner's progress names the version they started.
CREATE TABLE lesson_version (
    slug              TEXT NOT NULL REFERENCES lesson (slug),
    version           INTEGER NOT NULL,
    framework_version TEXT NOT NULL REFERENCES framework_version (version),
    source            TEXT NOT NULL,
    source_hash       TEXT NOT NULL,
    audio_key         TEXT,
    audio_recorded    INTEGER NOT NULL DEFAULT 0,
    published_at      INTEGER NOT NULL,
    published_by      TEXT,
    PRIMARY KEY (slug, version)
);

CREATE TABLE media (
    key          TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

-- Moves on every publish, unpublish and import, so each server knows when to rebuild its search index.
CREATE TABLE content_change (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
);
INSERT INTO content_change (id, counter) VALUES (1, 0);

CREATE TABLE progress (
    account_id    TEXT NOT NULL REFERENCES account (id),
    lesson_slug   TEXT NOT NULL REFERENCES lesson (slug),
    version       INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    seconds       INTEGER NOT NULL,
    score         INTEGER,
    started_at    INTEGER NOT NULL,
    completed_at  INTEGER,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, lesson_slug)
);

-- The learning record store: xAPI 1.0.3 statements as received, with the columns the filters need.
CREATE TABLE xapi_statement (
    id          TEXT PRIMARY KEY,
    stored_ms   INTEGER NOT NULL,
    actor_key   TEXT NOT NULL,
    verb_id     TEXT NOT NULL,
    activity_id TEXT,
    registration TEXT,
    -- Hash of the statement as received (without what the store adds), to tell a retry from a conflict.
    content_hash TEXT NOT NULL,
    voided      INTEGER NOT NULL DEFAULT 0,
    body        TEXT NOT NULL
);
CREATE INDEX xapi_statement_stored ON xapi_statement (stored_ms, id);
CREATE INDEX xapi_statement_actor ON xapi_statement (actor_key, stored_ms);
CREATE INDEX xapi_statement_activity ON xapi_statement (activity_id, stored_ms);

-- Outside content reports with HTTP basic auth; only the secret's hash is kept.
CREATE TABLE xapi_client (
    key         TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE news (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('tin_tuc', 'thong_bao')),
    published_at INTEGER,
    created_at   INTEGER NOT NULL,
    created_by   TEXT REFERENCES account (id)
);
CREATE INDEX news_published ON news (published_at);
