//! Values that are valid by construction: parse once at the edge, trust afterwards.

mod login_code;

pub use login_code::LoginCode;
