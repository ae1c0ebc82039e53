-- Sessions: one per login, that is one per device, each with a chain of refresh tokens.
--
-- An access token names its session in the `sid` claim, so ending a session here ends every
-- token that came from that login, on every server instance.
CREATE TABLE sessions (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the device said it was at login, so a user can tell their sessions apart.
    user_agent   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Last login or refresh. Not touched by ordinary requests, which must not cost a write.
    last_used_at timestamptz NOT NULL DEFAULT now(),
    -- When the newest refresh token runs out; past it the session is over without a logout.
    expires_at   timestamptz NOT NULL,
    -- Set once, by logout, by ending the session from another device, or by refresh-token reuse.
    revoked_at   timestamptz,
    revoked_why  text
);

-- The sessions list and logout-all look up a user's live sessions.
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens, stored only as SHA-256 hashes: a copy of this table yields no usable token.
-- A token is 256 random bits, so an unsalted fast hash is enough; nobody can brute-force it.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY,
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set when the token is rotated. A used token that comes back is a replay: the whole session
    -- is revoked. Rows are kept after use for exactly that reason.
    used_at    timestamptz
);

-- Revoking or expiring a session's tokens, and deleting them with it.
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
