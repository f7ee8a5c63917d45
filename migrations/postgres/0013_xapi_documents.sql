-- The learning record store's document resources (xAPI 1.0.3, 7.3–7.6): state, activity profile
-- and agent profile documents, each belonging to the xAPI client that wrote it. Empty strings
-- stand for parts a kind does not use, so that the primary key names one document.
CREATE TABLE xapi_document (
    client       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),
    activity_id  TEXT NOT NULL,
    agent_key    TEXT NOT NULL,
    registration TEXT NOT NULL,
    doc_id       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BYTEA NOT NULL,
    -- SHA-1 of the content, hexadecimal (the ETag).
    etag         TEXT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    PRIMARY KEY (client, kind, activity_id, agent_key, registration, doc_id)
);

-- Attachments of statements (multipart/mixed), by their SHA-2: the bytes are in the media store
-- under media_key (a key /media/ never serves); a statement lists the hashes it carries.
CREATE TABLE xapi_attachment (
    sha2         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    length       BIGINT NOT NULL,
    media_key    TEXT NOT NULL,
    stored_ms    BIGINT NOT NULL
);
