//! What the HTTP handlers call: each service owns one concern and composes storage and the
//! WeChat client for it.

pub mod access_token;
pub mod avatar_reads;
pub mod profile;
pub mod pruning;
pub mod qr_login;
pub mod session_cache;
pub mod session_keys;
pub mod sessions;
pub mod user_budget;
