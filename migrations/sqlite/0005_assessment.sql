-- Assessment and certification: the item bank by version, exams per pass profile, sittings and
-- their answers, signing keys, certificates, and the outbox of confirmations to VNeID.
-- Times are Unix seconds (UTC).

CREATE TABLE item (
    id         TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    competence TEXT NOT NULL,
    level      INTEGER NOT NULL,
    difficulty INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    -- How many sittings drew it: a draw prefers the least shown, so exposure spreads.
    exposure   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX item_draw ON item (competence, level);

-- A sitting keeps the version it drew, so an edit never changes a test already under way.
CREATE TABLE item_version (
    item_id      TEXT NOT NULL REFERENCES item (id),
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- One exam per pass profile; the defaults of the plan, which an administrator can change.
CREATE TABLE exam (
    target_group     TEXT PRIMARY KEY,
    items            INTEGER NOT NULL CHECK (items BETWEEN 1 AND 200),
    minutes          INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 600),
    attempts_per_day INTEGER NOT NULL CHECK (attempts_per_day BETWEEN 1 AND 100),
    updated_at       INTEGER,
    updated_by       TEXT REFERENCES account (id)
);
INSERT INTO exam (target_group, items, minutes, attempts_per_day) VALUES
    ('nguoi_dan', 30, 30, 3), ('nguoi_lao_dong', 30, 30, 3), ('can_bo', 40, 45, 3), ('hoc_sinh_sinh_vien', 30, 40, 3);

CREATE TABLE sitting (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES account (id),
    target_group      TEXT NOT NULL,
    framework_version TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    deadline          INTEGER NOT NULL,
    -- JSON: the drawn items in the order shown, each with its version and the order of its choices.
    paper             TEXT NOT NULL,
    submitted_at      INTEGER,
    score             INTEGER,
    total             INTEGER,
    passed            INTEGER,
    -- JSON: the share per competence.
    result            TEXT
);
-- One sitting at a time per learner.
CREATE UNIQUE INDEX sitting_open ON sitting (account_id) WHERE submitted_at IS NULL;
CREATE INDEX sitting_account ON sitting (account_id, started_at);

-- The latest answer to each question of a sitting; graded as it is saved.
CREATE TABLE answer (
    sitting_id  TEXT NOT NULL REFERENCES sitting (id),
    position    INTEGER NOT NULL,
    response    TEXT NOT NULL,
    correct     INTEGER NOT NULL,
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (sitting_id, position)
);

-- Ed25519 keys by key id. The secret is sealed with the data key; a retired key signs nothing
-- more but stays published, so what it signed keeps verifying.
CREATE TABLE signing_key (
    kid        TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    secret_enc BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

CREATE TABLE certificate (
    id               TEXT PRIMARY KEY,
    sitting_id       TEXT NOT NULL UNIQUE REFERENCES sitting (id),
    account_id       TEXT NOT NULL REFERENCES account (id),
    person_id        INTEGER REFERENCES person (id),
    target_group     TEXT NOT NULL,
    holder_name      TEXT NOT NULL,
    level            INTEGER NOT NULL,
    share            INTEGER NOT NULL,
    issued_at        INTEGER NOT NULL,
    kid              TEXT NOT NULL REFERENCES signing_key (kid),
    credential       TEXT NOT NULL,
    revoked_at       INTEGER,
    revoke_reason    TEXT,
    withdrawn_at     INTEGER,
    share_token_hash BLOB UNIQUE
);
CREATE INDEX certificate_account ON certificate (account_id);

-- Filled in the transaction that issues a certificate; workers on any server claim rows with a lease.
CREATE TABLE vneid_outbox (
    certificate_id TEXT PRIMARY KEY REFERENCES certificate (id),
    state          TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,
    claimed_by     TEXT,
    lease_until    INTEGER,
    reference      TEXT,
    last_error     TEXT,
    delivered_at   INTEGER
);
CREATE INDEX vneid_outbox_due ON vneid_outbox (next_at) WHERE state = 'pending';

-- The facts the tracking of the plan counts.
ALTER TABLE person ADD COLUMN passed_groups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE person ADD COLUMN certified_at INTEGER;
ALTER TABLE person ADD COLUMN vneid_confirmed_at INTEGER;
