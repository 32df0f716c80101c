-- Rate-limit counters, in the layout rate-limiter-flexible's PostgreSQL store uses; created here rather than by the
-- library so that the service needs no DDL rights at run time. Keys are SHA-256 hex digests, never a raw username.
CREATE TABLE IF NOT EXISTS rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
