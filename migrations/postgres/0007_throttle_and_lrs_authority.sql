-- Failed logins slow down the account they name (a delay that doubles with each failure, capped)
-- instead of locking it; one row per login name, gone at the next successful login. Unknown names
-- get rows too, so that the answers do not tell them from known ones. Per-address limits are kept
-- in memory (DESIGN: rate limits may live in one process, lockouts may not).
DROP TABLE login_failure;
CREATE TABLE login_throttle (
    key_hash      BYTEA PRIMARY KEY,
    failures      BIGINT NOT NULL,
    delay_seconds BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle (updated_at);

-- Failed logins are audited one row per address, account, reason and minute, with a count, so that
-- a flood does not grow the log one row per attempt. The only change the log accepts is that count
-- going up on such a row; everything else stays append-only (TRUNCATE is still refused).
ALTER TABLE audit_log ADD COLUMN repeat_key TEXT, ADD COLUMN repeats BIGINT NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX audit_log_repeat ON audit_log (repeat_key);
CREATE FUNCTION audit_log_count_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.repeat_key IS NOT NULL AND NEW.repeats > OLD.repeats
       AND (NEW.id, NEW.at, NEW.account_id, NEW.action, NEW.person_id, NEW.unit_code, NEW.detail, NEW.address,
            NEW.repeat_key) IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.account_id, OLD.action, OLD.person_id,
            OLD.unit_code, OLD.detail, OLD.address, OLD.repeat_key) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
DROP TRIGGER audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_count_only();

-- Each statement remembers the xAPI client that wrote it ('hocvuso': the platform itself); a client
-- reads only its own statements unless it was given read_all.
ALTER TABLE xapi_statement ADD COLUMN authority TEXT NOT NULL DEFAULT 'hocvuso';
UPDATE xapi_statement SET authority = body::jsonb #>> '{authority,account,name}'
    WHERE body::jsonb #>> '{authority,account,name}' IS NOT NULL;
CREATE INDEX xapi_statement_authority ON xapi_statement (authority, stored_ms);
ALTER TABLE xapi_client ADD COLUMN read_all BOOLEAN NOT NULL DEFAULT FALSE;
