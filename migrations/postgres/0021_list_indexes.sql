-- Issue 25: the other two "who needs help" lists of a commune (src/tracking/visit.rs), as 0020 did for
-- the adults not passed. Measured with benches/lists.sh (BENCHMARKS.md, "The commune's three lists").
--
-- Citizens without VNeID level 2 or a digital bank account, by village, oldest first: only the people
-- the list can show, in its order. The predicate is the list's own term, word for word: SQLite uses a
-- partial index only when the query's WHERE carries each of the index's terms.
CREATE INDEX person_digital_gap ON person (village_code, birth_year, id)
    WHERE erased_at IS NULL AND (vneid_level IS NULL OR vneid_level < 2 OR bank_account IS NULL OR bank_account = 0);

-- Households where nobody has learned: for each person of the commune, whether a member of the
-- household has learned is one probe of this index, which holds the learners only, without
-- reading any member's row.
CREATE INDEX person_household_learned ON person (village_code, household_code, commune_code)
    WHERE learned_at IS NOT NULL;
