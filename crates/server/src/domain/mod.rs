//! Values that are valid by construction: parse once at the edge, trust afterwards.

mod nickname;
mod openid;
mod phone_number;
mod qr_ticket;
mod refresh_token;
mod text;
mod wechat_code;

pub use nickname::{Nickname, NicknameError};
pub use openid::Openid;
pub use phone_number::PhoneNumber;
pub use qr_ticket::{PollSecret, Ticket};
pub use refresh_token::{RefreshToken, RefreshTokenHash};
pub use text::is_bidi_control;
pub use wechat_code::{WechatCode, WechatCodeError};
