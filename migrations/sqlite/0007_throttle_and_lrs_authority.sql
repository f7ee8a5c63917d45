-- Failed logins slow down the account they name (a delay that doubles with each failure, capped)
-- instead of locking it; one row per login name, gone at the next successful login. Unknown names
-- get rows too, so that the answers do not tell them from known ones. Per-address limits are kept
-- in memory (DESIGN: rate limits may live in one process, lockouts may not).
DROP TABLE login_failure;
CREATE TABLE login_throttle (
    key_hash      BLOB PRIMARY KEY,
    failures      INTEGER NOT NULL,
    delay_seconds INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle (updated_at);

-- Failed logins are audited one row per address, account, reason and minute, with a count, so that
-- a flood does not grow the log one row per attempt. The only change the log accepts is that count
-- going up on such a row; everything else stays append-only.
ALTER TABLE audit_log ADD COLUMN repeat_key TEXT;
ALTER TABLE audit_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX audit_log_repeat ON audit_log (repeat_key);
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.repeat_key IS NOT NULL AND NEW.repeats > OLD.repeats
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.account_id IS OLD.account_id AND NEW.action IS OLD.action
    AND NEW.person_id IS OLD.person_id AND NEW.unit_code IS OLD.unit_code AND NEW.detail IS OLD.detail
    AND NEW.address IS OLD.address AND NEW.repeat_key IS OLD.repeat_key)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Each statement remembers the xAPI client that wrote it ('hocvuso': the platform itself); a client
-- reads only its own statements unless it was given read_all.
ALTER TABLE xapi_statement ADD COLUMN authority TEXT NOT NULL DEFAULT 'hocvuso';
UPDATE xapi_statement SET authority = json_extract(body, '$.authority.account.name')
    WHERE json_extract(body, '$.authority.account.name') IS NOT NULL;
CREATE INDEX xapi_statement_authority ON xapi_statement (authority, stored_ms);
ALTER TABLE xapi_client ADD COLUMN read_all INTEGER NOT NULL DEFAULT 0;
