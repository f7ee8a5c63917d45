-- Names are searched without regard to case or diacritics, the same on both backends (SQLite's
-- LIKE folds ASCII case only, PostgreSQL's folds nothing): the folded name (lower case, marks
-- removed, đ → d, spaces collapsed; `domain::text::search_key`) is kept beside the name by every
-- write of a name, and searched with LIKE on the folded query.
ALTER TABLE person ADD COLUMN name_folded TEXT;

-- Backfills that need Rust (here: the folding of existing names), done after the migrations by
-- `Store::migrate`; the row goes when the backfill has finished, so an interrupted one resumes.
CREATE TABLE backfill (name TEXT PRIMARY KEY);
INSERT INTO backfill (name) VALUES ('person.name_folded');
