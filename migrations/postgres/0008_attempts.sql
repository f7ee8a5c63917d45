-- The day's attempts are numbered as each sitting is inserted (the count and the insert are one
-- statement), and a number is taken once per learner and day: two starts that counted the same
-- attempts cannot both land. Sittings from before have no number and count as they did.
ALTER TABLE sitting ADD COLUMN attempt_day BIGINT;
ALTER TABLE sitting ADD COLUMN attempt_no BIGINT;
CREATE UNIQUE INDEX sitting_attempt ON sitting (account_id, attempt_day, attempt_no);
