//! Integration tests: the real router over real HTTP, a real Postgres database per test, and the
//! fake WeChat on another port.

mod helpers;

mod config_exit;
mod errors;
mod health;
mod keys;
mod login;
mod logout;
mod me;
mod phone;
mod platform_helpers;
mod platform_secrets;
mod platform_token;
mod profile;
mod refresh;
mod secrets;
mod unionid;
mod wechat_data;
