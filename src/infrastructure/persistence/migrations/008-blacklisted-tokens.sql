-- Token ids (jti) refused from now on: logging out a flask-praetorian token (LEGACY_TOKENS=praetorian), which names no
-- session to revoke, blacklists its jti until its refresh deadline (rf_exp). Instances keep what they read in memory
-- and forget an entry when PostgreSQL says it changed, as for sessions (migration 004): the notice is raised by the
-- same transaction as the insert, whoever makes it. Payload: 'j:<jti>'. Purged once expired (PURGE_AFTER later).
CREATE TABLE IF NOT EXISTS blacklisted_tokens (
  jti text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 128),
  expires_at timestamptz NOT NULL,
  blacklisted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS blacklisted_tokens_expires_at_idx ON blacklisted_tokens (expires_at);

CREATE OR REPLACE FUNCTION jwt_login_notify_blacklist_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('jwt_login_changes', 'j:' || OLD.jti);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('jwt_login_changes', 'j:' || NEW.jti);
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS blacklisted_tokens_notify_change ON blacklisted_tokens;
CREATE TRIGGER blacklisted_tokens_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON blacklisted_tokens
  FOR EACH ROW EXECUTE FUNCTION jwt_login_notify_blacklist_change();
