//! Postgres, one module per table. Each table is written by exactly one module here; the services
//! above decide what runs in one transaction, and nothing above this layer writes SQL.
//!
//! | table                  | owner               |
//! |------------------------|---------------------|
//! | `users`                | [`users`]           |
//! | `wechat_sessions`      | [`wechat_sessions`] |
//! | `sessions`             | [`sessions`]        |
//! | `refresh_tokens`       | [`sessions`]        |
//! | `avatars`              | [`avatars`]         |
//! | `phone_lookup_quota`   | [`phone_quota`]     |
//! | `wechat_access_tokens` | [`access_tokens`]   |
//! | `privacy_consents`     | [`privacy_consents`] |
//! | `avatar_media_checks`  | [`avatar_checks`]   |
//! | `wechat_push_receipts` | [`push_receipts`]   |
//! | `phone_lookup_days`    | [`phone_lookup_days`] |
//! | `qr_login_tickets`     | [`qr_login_tickets`] |
//!
//! One exception, for speed: a login is one statement ([`login::record`]) that upserts the user
//! and inserts the first rows of `wechat_sessions`, `sessions` and `refresh_tokens` in a single
//! round trip. Each of those owners' docs names it.

pub mod access_tokens;
pub mod avatar_checks;
pub mod avatars;
pub mod login;
pub mod phone_lookup_days;
pub mod phone_quota;
pub mod privacy_consents;
pub mod push_receipts;
pub mod qr_login_tickets;
pub mod sessions;
pub mod users;
pub mod wechat_sessions;
