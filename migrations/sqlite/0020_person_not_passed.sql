-- Issue 25, found by the peak-day harness at 4,000,000 people: a commune's "who needs help" list of
-- adults not yet passed (its page and its CSV export, src/tracking/visit.rs) read every person of the
-- commune's villages to keep the quarter not yet passed (62,506 read for 17,033 kept in the largest
-- commune; PostgreSQL 137 ms for the query alone). This index holds only the people the list can
-- show, by village, oldest first; it shrinks as people pass.
CREATE INDEX person_not_passed ON person (village_code, birth_year, id) WHERE passed_groups = 0 AND erased_at IS NULL;
