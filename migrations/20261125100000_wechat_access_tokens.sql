-- WeChat's server-side access token, one per mini program, shared by every wxlogin instance.
--
-- WeChat wants one token per app in use at a time: instances that each fetched their own would
-- keep replacing one another's. So the token lives here, and a refresh runs under a
-- transaction-scoped advisory lock keyed on the appid (see crates/server/src/platform_token.rs),
-- so that N instances starting together make one upstream call, not N.
CREATE TABLE wechat_access_tokens (
    appid                text        PRIMARY KEY,
    -- WeChat asks for at least 512 characters of storage; text has no limit.
    access_token         text        NOT NULL,
    -- When WeChat says it stops working. Instances refresh five minutes before this.
    expires_at           timestamptz NOT NULL,
    refreshed_at         timestamptz NOT NULL DEFAULT now(),
    -- Forced refreshes are rationed by WeChat (20 a day, 30 seconds apart) across every
    -- instance, so the ration is counted here rather than in memory. The day is WeChat's,
    -- China Standard Time.
    force_refresh_day    date,
    force_refresh_count  integer     NOT NULL DEFAULT 0,
    last_force_refresh_at timestamptz
);
