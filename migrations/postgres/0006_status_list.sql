-- Revocation published as W3C Bitstring Status Lists: each certificate issued from now on has a
-- position (list, index) that its signed credential names; the list credential at
-- /api/v1/status/{list} sets the bits of the revoked and withdrawn ones.
-- Positions come from one counter, handed out in the transaction that issues, and are scattered
-- inside a list by a keyed permutation (the key below, made once per database) so that a
-- position says nothing of when a certificate was issued.

CREATE TABLE status_allocator (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    next_position BIGINT NOT NULL,
    scramble_key  BYTEA NOT NULL
);
-- gen_random_uuid() draws from the server's strong random source (PostgreSQL 13 and later).
INSERT INTO status_allocator (id, next_position, scramble_key)
VALUES (1, 0, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Certificates issued before this migration have neither (their credentials name no list).
ALTER TABLE certificate ADD COLUMN status_list BIGINT;
ALTER TABLE certificate ADD COLUMN status_index BIGINT;
CREATE UNIQUE INDEX certificate_status ON certificate (status_list, status_index);
-- The list endpoint reads only the set bits.
CREATE INDEX certificate_status_set ON certificate (status_list, status_index)
    WHERE revoked_at IS NOT NULL OR withdrawn_at IS NOT NULL;
