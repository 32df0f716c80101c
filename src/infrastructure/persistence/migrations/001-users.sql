-- The seed's table, exactly as flask-praetorian's example created it; kept as is so existing data and tools work.
CREATE TABLE IF NOT EXISTS users (
  id serial PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password text NOT NULL,
  roles text,
  is_active boolean
);

-- Usernames are unique after Unicode NFKC and lower-casing ("Alice" and "ＡＬＩＣＥ" are one user). An index rather
-- than a column, so the table's shape stays the seed's and rows written by other tools are held to the rule too.
CREATE UNIQUE INDEX IF NOT EXISTS users_username_folded_key ON users (lower(normalize(username, NFKC)));
