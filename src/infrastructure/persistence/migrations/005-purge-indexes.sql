-- Ended records are purged after a retention (PURGE_AFTER): these indexes let each small batch find its rows without
-- reading the whole table.
CREATE INDEX IF NOT EXISTS refresh_tokens_spent_at_idx ON refresh_tokens (spent_at) WHERE spent_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
