-- Issue 22, corrections: commune staff correct or delete a mistaken record. A deleted door-to-door
-- visit stays as a tombstone (its id and content hash, nothing about the people present), so a late
-- resend of the same visit from a phone is still answered as a duplicate and never stored again.
-- A cancelled class keeps its past sessions and attendance (they happened) and takes no new ones.
ALTER TABLE team_visit ADD COLUMN deleted_at INTEGER;
ALTER TABLE community_class ADD COLUMN cancelled_at INTEGER;
