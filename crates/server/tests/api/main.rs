//! Integration tests of the server, in one binary and two tiers, each test on a Postgres
//! database of its own.
//!
//! The fast tier (`router_*`) drives the router in-process with `oneshot`: no socket and no
//! WeChat, for request validation, error shapes and token forgery. The HTTP tier (the rest)
//! serves the real router on a real port with the fake WeChat on another, for everything that
//! needs WeChat, several instances, real sockets or the binary itself.

mod helpers;

// The fast tier.
mod router_fuzz;
mod router_hardening;
mod router_introspect;
mod router_keys;
mod router_openapi;
mod router_routes;
mod router_tokens;
mod router_uploads;
mod router_validation;

// The HTTP tier.
mod binary_observability;
mod cache_control;
mod config_exit;
mod connections;
mod consents;
mod content_check;
mod env_file;
mod errors;
mod grafana;
mod hardening;
mod health;
mod introspect;
mod keys;
mod login;
mod logout;
mod me;
mod metrics;
mod pgbouncer;
mod phone;
mod platform_secrets;
mod platform_token;
mod profile;
mod pruning;
mod push_events;
mod qr_login;
mod rate_limits;
mod refresh;
mod request_logs;
mod risk;
mod secrets;
mod unionid;
mod verify;
mod wechat_bound;
mod wechat_data;
