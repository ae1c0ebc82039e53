//! Everything the tests share, by topic. Test modules import from here and never from one
//! another, so each can be read, moved or deleted on its own.

pub mod binary;
pub mod compliance;
pub mod config;
pub mod fuzz;
pub mod introspection;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod qr_login;
pub mod raw;
pub mod reply;
pub mod router;
pub mod server;
pub mod tokens;
pub mod uploads;
pub mod wechat;
