-- Users of the mini program, one row per (appid, openid).
--
-- An openid is only unique within one mini program: the same person has a different openid in
-- every app. Keying on (appid, openid) lets one wxlogin database serve several apps without two
-- people colliding.
CREATE TABLE users (
    -- Our own id, the `sub` of every token. Random rather than sequential so that tokens and
    -- URLs do not reveal how many users there are or who signed up when.
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    appid         text        NOT NULL,
    openid        text        NOT NULL,
    -- Present only when the app is bound to a WeChat Open Platform account; it is the same for
    -- one person across every app under that account, so it is how apps share users.
    unionid       text,
    -- Filled in later by the user (WeChat no longer hands out real profile data at login).
    nickname      text,
    avatar_url    text,
    phone         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Any change to the row, profile or login.
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    -- The login upsert's conflict target: concurrent first logins of one person meet here and
    -- end up as one row.
    CONSTRAINT users_appid_openid_key UNIQUE (appid, openid)
);

-- Finding a person across apps by unionid. Partial, because most apps have no unionid and the
-- index need not hold a NULL per user.
CREATE INDEX users_unionid_idx ON users (unionid) WHERE unionid IS NOT NULL;

-- The newest WeChat session_key of each user.
--
-- Kept apart from `users` so that no query that serves user data to a client can select it by
-- accident. It is needed later to decrypt data the mini program forwards from WeChat and to run
-- checksession. It never leaves the server.
CREATE TABLE wechat_sessions (
    user_id            uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- AES-256-GCM: a format byte, a 12-byte nonce, then ciphertext and tag. The key is derived
    -- from server configuration, so a copy of the database alone does not yield session_keys.
    session_key_sealed bytea       NOT NULL,
    -- WeChat rotates the key on a new wx.login and never says when it expires; this tells how
    -- fresh ours is.
    updated_at         timestamptz NOT NULL DEFAULT now()
);
