-- Identity and access: accounts, roles scoped to units, sessions, login state, the audit log,
-- consent and erasure requests. Times are Unix seconds (UTC), bound from the server.

-- `id` is the pseudonymous account id that learning records use from the start.
CREATE TABLE account (
    id                   TEXT PRIMARY KEY,
    login                TEXT UNIQUE,
    password_hash        TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    person_id            INTEGER UNIQUE REFERENCES person (id),
    -- VNeID's subject, through the keyed hash, so a copy of the database does not name anyone.
    oidc_subject_hash    BLOB UNIQUE,
    -- A self-registered learner's citizen number until an officer links them to the registry.
    cccd_hash            BLOB UNIQUE,
    cccd_enc             BLOB,
    display_name         TEXT,
    home_commune         TEXT REFERENCES unit (code),
    identity_level       INTEGER,
    self_registered      INTEGER NOT NULL DEFAULT 0,
    confirmed_by         TEXT REFERENCES account (id),
    confirmed_at         INTEGER,
    created_at           INTEGER NOT NULL,
    erased_at            INTEGER
);

CREATE TABLE role_grant (
    account_id        TEXT NOT NULL REFERENCES account (id),
    role              TEXT NOT NULL CHECK (role IN ('hoc_vien', 'dai_su_so', 'to_cong_nghe_so', 'ho_tro_mot_cua',
                          'can_bo_xa', 'can_bo_nganh', 'quan_tri_tinh', 'bien_tap', 'kiem_toan')),
    unit_code         TEXT NOT NULL REFERENCES unit (code),
    organisation_code TEXT REFERENCES organisation (code),
    granted_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, role, unit_code)
);
CREATE INDEX role_grant_unit ON role_grant (unit_code);

-- The cookie holds the token; the database only its hash.
CREATE TABLE session (
    token_hash BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    address    TEXT
);
CREATE INDEX session_account ON session (account_id);

-- One row per login started at VNeID; the callback consumes it once.
CREATE TABLE oidc_login (
    state_hash    BLOB PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Failed logins, counted per account and per address over a window.
CREATE TABLE login_failure (
    key_hash BLOB NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failure_key ON login_failure (key_hash, at);

-- Who did what to whom, from where. Names and citizen numbers never enter it: people by internal id.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    account_id TEXT,
    action     TEXT NOT NULL,
    person_id  INTEGER,
    unit_code  TEXT,
    detail     TEXT,
    address    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_person ON audit_log (person_id);
CREATE INDEX audit_log_account ON audit_log (account_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE consent (
    account_id     TEXT NOT NULL REFERENCES account (id),
    notice_version TEXT NOT NULL,
    accepted_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, notice_version)
);

CREATE TABLE erasure_request (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES account (id),
    commune_code TEXT REFERENCES unit (code),
    requested_at INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('cho_duyet', 'da_duyet', 'tu_choi')),
    decided_by   TEXT REFERENCES account (id),
    decided_at   INTEGER
);
CREATE UNIQUE INDEX erasure_request_pending ON erasure_request (account_id) WHERE status = 'cho_duyet';
CREATE INDEX erasure_request_commune ON erasure_request (commune_code, status);
