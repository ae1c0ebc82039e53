-- Compliance: privacy consent, WeChat's content checks of avatars, its message push, the risk
-- rank at sign-up and the count of billed phone number lookups.

-- The privacy policy version the user last accepted. A copy of the newest `privacy_consents` row,
-- kept on the user so that `GET /api/me`, the hottest read, tells whether consent is due from the
-- one row it already reads.
ALTER TABLE users ADD COLUMN privacy_consent_version text;

-- WeChat's getuserriskrank at sign-up (0 none .. 4 highest), when RISK_CHECK is on and WeChat
-- answered. For the app's own decisions; never sent to the client.
ALTER TABLE users ADD COLUMN risk_rank smallint CHECK (risk_rank BETWEEN 0 AND 4);

-- Every consent given: who accepted which version, when, from where. An audit log, only ever
-- appended to; gone with its user.
CREATE TABLE privacy_consents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version text NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    -- As the server saw it (the peer, or what a trusted proxy says), in text form.
    client_ip text NOT NULL,
    user_agent text
);
-- A user's consents, newest first.
CREATE INDEX privacy_consents_user ON privacy_consents (user_id, accepted_at DESC);

-- Avatars WeChat is checking (media_check_async): its trace_id, answered later by a
-- `wxa_media_check` push event carrying the same trace_id. Gone with the avatar, so a verdict
-- about an avatar already replaced finds nothing to act on.
CREATE TABLE avatar_media_checks (
    trace_id text PRIMARY KEY,
    avatar_id uuid NOT NULL REFERENCES avatars (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    submitted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX avatar_media_checks_avatar ON avatar_media_checks (avatar_id);

-- Push messages already handled, shared by every instance so that a replayed or retried message
-- changes nothing twice. Two keys per message: its (timestamp, nonce), which WeChat never repeats,
-- and a digest of the message itself. Rows older than the timestamp window are useless (a stale
-- timestamp is refused anyway) and are deleted as new messages arrive.
CREATE TABLE wechat_push_receipts (
    receipt text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wechat_push_receipts_received_at ON wechat_push_receipts (received_at);

-- Successful phone number lookups per day (UTC), across instances: each one is billed by WeChat.
CREATE TABLE phone_lookup_days (
    day date PRIMARY KEY,
    lookups integer NOT NULL
);
