-- Scan-to-login: a browser asks for a ticket, shows it as a mini-program code, and a signed-in
-- user of the mini program scans and confirms it; the browser then gets a session of its own.
--
-- Tickets live here rather than in one instance's memory so that any instance can serve any step:
-- the browser's requests, the QR image and the phone's scan and confirm may each land elsewhere.
-- Every state change is one conditional UPDATE, so a race between instances is decided here.
CREATE TABLE qr_login_tickets (
    -- The `scene` of the mini-program code: public, it is printed in the QR code.
    ticket              text        PRIMARY KEY,
    -- SHA-256 of the secret only the browser that asked knows; it alone may read the state and
    -- receive the tokens. A copy of this table yields no usable secret.
    poll_secret_hash    bytea       NOT NULL,
    -- pending → scanned (by user_id) → confirmed | denied. Expiry is not a state: it is
    -- `expires_at <= now()`, so no job has to run for a ticket to expire.
    state               text        NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'scanned', 'confirmed', 'denied')),
    -- What the browser said it was and where it asked from, shown on the phone before the user
    -- confirms, and given to the session a confirmation opens.
    browser_user_agent  text,
    browser_ip          text        NOT NULL,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    -- The user who scanned; only they may confirm or deny.
    user_id             uuid        REFERENCES users (id) ON DELETE CASCADE,
    scanned_at          timestamptz,
    decided_at          timestamptz,
    -- Set once, in the transaction that opens the browser's session: tokens are handed out once.
    handed_out_at       timestamptz,
    session_id          uuid,
    -- The mini-program code WeChat drew for this ticket, kept so that WeChat is asked once per
    -- ticket however often the image is fetched; `qr_fetch_started_at` marks a call in flight so
    -- that other instances wait for it instead of making their own.
    qr_code             bytea,
    qr_fetch_started_at timestamptz,
    CHECK ((state = 'pending') = (user_id IS NULL)),
    CHECK (handed_out_at IS NULL OR state = 'confirmed')
);

-- Pruning finds expired tickets without reading the whole table.
CREATE INDEX qr_login_tickets_expires_at_idx ON qr_login_tickets (expires_at);

-- How a session began: a mini-program login, or a confirmed scan from a browser. A browser session
-- holds no WeChat session_key of its own, so the endpoints that use the user's key refuse it.
ALTER TABLE sessions ADD COLUMN origin text NOT NULL DEFAULT 'mini_program'
    CHECK (origin IN ('mini_program', 'qr_login'));
