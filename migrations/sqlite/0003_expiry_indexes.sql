-- Expired sessions and abandoned VNeID logins are deleted as new ones are written; these keep that cheap.
CREATE INDEX session_expires ON session (expires_at);
CREATE INDEX oidc_login_created ON oidc_login (created_at);
