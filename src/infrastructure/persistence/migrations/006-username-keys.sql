-- Usernames are compared by a key the application computes (src/domain/username.ts: NFKC, lower case code point by
-- code point, NFC), not by lower(): PostgreSQL's lower() follows the database's LC_CTYPE, and on a database created
-- with LC_CTYPE=C it folds only ASCII, so "Émile" and "émile" were two accounts. The key has its own column and unique
-- index, used by every lookup. A second column holds the confusable skeleton (UTS #39) of the key: a new name that
-- looks like an existing one ("pаypal" with a Cyrillic а) is taken.
ALTER TABLE users ADD COLUMN IF NOT EXISTS username_key text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS username_skeleton text;

-- Rows written by other tools (the seed's table stays usable by them) come without a key: they get the database's
-- approximation, exact for ASCII names and close on a UTF-8 locale, and no skeleton. Each start of the service then
-- recomputes the key and skeleton of every row without a skeleton in the application.
CREATE OR REPLACE FUNCTION jwt_login_username_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.username_key IS NULL
     OR (TG_OP = 'UPDATE' AND NEW.username IS DISTINCT FROM OLD.username
         AND NEW.username_key IS NOT DISTINCT FROM OLD.username_key) THEN
    NEW.username_key := lower(normalize(NEW.username, NFKC));
    NEW.username_skeleton := NULL;
  END IF;
  RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS users_username_key ON users;
CREATE TRIGGER users_username_key
  BEFORE INSERT OR UPDATE OF username, username_key ON users
  FOR EACH ROW EXECUTE FUNCTION jwt_login_username_key();

-- The same expression as the index it replaces, so no existing pair of rows can collide here.
UPDATE users SET username_key = lower(normalize(username, NFKC)) WHERE username_key IS NULL;
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_name_key_unique ON users (username_key);
CREATE UNIQUE INDEX IF NOT EXISTS users_name_skeleton_unique ON users (username_skeleton);
DROP INDEX IF EXISTS users_username_folded_key;
