-- E-mail addresses, confirmation and reset tokens, the mail outbox, and what a user sees of their sessions.

-- The address is stored as given; `email_key` (trimmed, case-folded, computed by the application like username_key)
-- is what must be unique. Existing rows keep a null address.
ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_key text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key_unique ON users (email_key);

-- Rows other tools write with an address get the database's approximation of the key (exact for ASCII addresses).
CREATE OR REPLACE FUNCTION jwt_login_email_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS NULL THEN
    NEW.email_key := NULL;
  ELSIF NEW.email_key IS NULL
     OR (TG_OP = 'UPDATE' AND NEW.email IS DISTINCT FROM OLD.email AND NEW.email_key IS NOT DISTINCT FROM OLD.email_key) THEN
    NEW.email_key := lower(btrim(NEW.email));
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS users_email_key ON users;
CREATE TRIGGER users_email_key
  BEFORE INSERT OR UPDATE OF email, email_key ON users
  FOR EACH ROW EXECUTE FUNCTION jwt_login_email_key();

-- Confirmation and reset tokens: single use, expiring, stored only as a SHA-256 digest. `email` is the address a
-- confirmation proves (the user may change it later); `activates` marks the confirmation of an account registered
-- inactive until confirmed.
CREATE TABLE IF NOT EXISTS account_tokens (
  token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('confirm', 'reset')),
  email text NOT NULL,
  activates boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  spent_at timestamptz
);
CREATE INDEX IF NOT EXISTS account_tokens_user_idx ON account_tokens (user_id, purpose) WHERE spent_at IS NULL;
CREATE INDEX IF NOT EXISTS account_tokens_ended_idx ON account_tokens (expires_at);

-- Mails, written in the same transaction as the change that causes them, and delivered by a sender that claims rows
-- with FOR UPDATE SKIP LOCKED, so that with several instances each mail is sent by one. The body (which may hold a
-- token) is dropped once the mail is sent or given up on.
CREATE TABLE IF NOT EXISTS mail_outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  failed_at timestamptz,
  last_error text
);
CREATE INDEX IF NOT EXISTS mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS mail_outbox_ended_idx ON mail_outbox (coalesce(sent_at, failed_at))
  WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;

-- What GET /api/sessions shows a user of each of their sessions.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS client_address text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS user_agent text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS refreshed_at timestamptz;
