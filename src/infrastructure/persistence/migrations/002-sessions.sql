-- A session is one login and everything refreshed from it. Access tokens carry its id (`sid`); revoking it (logout,
-- refresh-token reuse, user deactivation) ends them and its refresh tokens at once.
CREATE TABLE IF NOT EXISTS sessions (
  id uuid PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Only the SHA-256 of a refresh token is stored. A spent token keeps the hash of its successor, so a replay within the
-- grace window can be told from a replay of a stolen token.
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL,
  spent_at timestamptz,
  successor_hash text
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_idx ON refresh_tokens (session_id);
