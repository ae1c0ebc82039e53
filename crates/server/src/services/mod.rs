//! What the HTTP handlers call: each service owns one concern and composes storage and the
//! WeChat client for it.

pub mod access_token;
pub mod avatar_reads;
pub mod consents;
pub mod content_checks;
pub mod profile;
pub mod pruning;
pub mod push_events;
pub mod qr_login;
pub mod session_cache;
pub mod session_keys;
pub mod sessions;
pub mod signup_risk;
pub mod user_budget;
