-- Issue 25, found by the peak-day harness: a commune officer's people list (keyset pages in id
-- order) read the registry in id order until it met the commune's people, because PostgreSQL's
-- planner took the primary key for the ORDER BY id LIMIT: 2.9 s a page at 400,000 people. The
-- list now scopes a commune grant by the person's own commune column, and this index serves
-- "commune, then id" as one range.
CREATE INDEX person_commune_id ON person (commune_code, id);
