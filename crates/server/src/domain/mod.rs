//! Values that are valid by construction: parse once at the edge, trust afterwards.

mod login_code;
mod nickname;
mod refresh_token;

pub use login_code::LoginCode;
pub use nickname::{Nickname, NicknameError};
pub use refresh_token::{RefreshToken, RefreshTokenHash};
