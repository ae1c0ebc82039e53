//! Values that are valid by construction: parse once at the edge, trust afterwards.

mod login_code;
mod refresh_token;

pub use login_code::LoginCode;
pub use refresh_token::{RefreshToken, RefreshTokenHash};
