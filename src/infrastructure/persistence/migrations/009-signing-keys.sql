-- Token-signing keys for ES256 and RS256 (HS256 keys come from JWT_SECRET and are never stored). Every instance reads
-- them from here, so a key made by one (or by `npm run keys -- rotate`) is used by all. The private key is sealed with
-- AES-256-GCM under KEY_ENCRYPTION_SECRET, or is NULL when it lives in a file under DATA_DIR/keys (embedded mode).
CREATE TABLE IF NOT EXISTS signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_key text NOT NULL,
  private_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The key signs from then on; until then it is only published, so that verifiers can fetch it first.
  activates_at timestamptz NOT NULL,
  -- The key verifies until then, when the last token it can have signed has expired; NULL until it is superseded.
  retires_at timestamptz
);

-- Instances reload their keys when one is added or changes, whoever made the change. Payload: 'k:<kid>'.
CREATE OR REPLACE FUNCTION jwt_login_notify_signing_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('jwt_login_changes', 'k:' || OLD.kid);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('jwt_login_changes', 'k:' || NEW.kid);
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS signing_keys_notify_change ON signing_keys;
CREATE TRIGGER signing_keys_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH ROW EXECUTE FUNCTION jwt_login_notify_signing_key_change();
