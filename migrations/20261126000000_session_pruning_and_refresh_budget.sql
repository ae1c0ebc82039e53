-- Ended sessions and spent refresh tokens are deleted by a background task on every instance
-- (crates/server/src/services/pruning.rs), and each session may refresh only so often.

-- How often this session refreshed in its current one-minute window. A client refreshes once per
-- access token lifetime; one stuck in a loop is refused past SESSION_REFRESHES_PER_MINUTE instead
-- of writing a token row per request.
ALTER TABLE sessions ADD COLUMN refresh_window_started_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN refreshes_in_window integer NOT NULL DEFAULT 0;

-- Finding what to prune without reading whole tables: sessions past their expiry or revoked, and
-- refresh tokens past their expiry or used long enough ago.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_used_at_idx ON refresh_tokens (used_at) WHERE used_at IS NOT NULL;
