-- Verified phone numbers, from the getPhoneNumber button.

-- `users.phone` holds WeChat's purePhoneNumber (no country code); the country code is kept
-- apart so that "+86 138..." can be rebuilt and numbers outside China are not misread.
ALTER TABLE users ADD COLUMN phone_country_code text;
-- When WeChat last vouched for the number. A repeat request is answered from the stored number
-- without asking (and paying) WeChat again.
ALTER TABLE users ADD COLUMN phone_verified_at timestamptz;

-- WeChat bills every successful phone number lookup, so each user gets a few per window.
-- A fixed window per user, updated by one atomic upsert, so concurrent requests of one user
-- (on any instance) cannot both slip under the limit.
CREATE TABLE phone_lookup_quota (
    user_id           uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    window_started_at timestamptz NOT NULL,
    -- Lookups sent to WeChat in the current window, failed ones included.
    calls             integer     NOT NULL
);
