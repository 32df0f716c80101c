-- Instances keep what a guarded request needs (is the session revoked? is the user active, with which roles?) in
-- memory, and forget an entry when PostgreSQL says it changed. The notices come from triggers, so they are raised by
-- the same transaction as the change (logout, refresh-token reuse, deactivation, a role change, a deletion), whoever
-- makes it: this service, the admin CLI or plain SQL. PostgreSQL delivers them at commit, to every listener.
-- Payload: 's:<session id>' or 'u:<user id>'.

CREATE OR REPLACE FUNCTION jwt_login_notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- Purged sessions are revoked or expired already; only a live one going away is news.
    IF OLD.revoked_at IS NULL AND OLD.expires_at > now() THEN
      PERFORM pg_notify('jwt_login_changes', 's:' || OLD.id::text);
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.user_id IS DISTINCT FROM OLD.user_id
     OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
    PERFORM pg_notify('jwt_login_changes', 's:' || NEW.id::text);
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS sessions_notify_change ON sessions;
CREATE TRIGGER sessions_notify_change
  AFTER UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION jwt_login_notify_session_change();

CREATE OR REPLACE FUNCTION jwt_login_notify_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('jwt_login_changes', 'u:' || OLD.id::text);
    RETURN OLD;
  END IF;
  -- An insert is news too: an instance may hold "no such user" for an id that an import has just written.
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('jwt_login_changes', 'u:' || NEW.id::text);
  ELSIF NEW.username IS DISTINCT FROM OLD.username OR NEW.roles IS DISTINCT FROM OLD.roles
     OR NEW.is_active IS DISTINCT FROM OLD.is_active OR NEW.id IS DISTINCT FROM OLD.id THEN
    PERFORM pg_notify('jwt_login_changes', 'u:' || OLD.id::text);
    IF NEW.id IS DISTINCT FROM OLD.id THEN
      PERFORM pg_notify('jwt_login_changes', 'u:' || NEW.id::text);
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS users_notify_change ON users;
CREATE TRIGGER users_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION jwt_login_notify_user_change();
