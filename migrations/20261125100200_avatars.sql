-- Avatars uploaded from the mini program's chooseAvatar button.
--
-- Kept in Postgres so that a deployment needs no object store; they are small (at most 1 MB).
-- Every upload gets a new id and a row is never changed, so `GET /avatars/{id}` can be cached
-- forever and a new avatar is simply a new URL.
CREATE TABLE avatars (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Decided from the file's magic bytes, never from what the client claimed.
    content_type text        NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    bytes        bytea       NOT NULL CHECK (octet_length(bytes) BETWEEN 1 AND 1048576),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Replacing an avatar deletes the user's older ones.
CREATE INDEX avatars_user_id_idx ON avatars (user_id);
