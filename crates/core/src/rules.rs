//! When a token counts as expired, and when a client should renew it.
//!
//! These two comparisons are the whole contract between the server and the mini program about
//! time. The server applies [`is_expired`] after it has verified a signature; the mini program
//! runs the same code (compiled to WebAssembly) to decide when to renew before sending a request.
//! Both sides pass the current time in seconds since the Unix epoch; nothing here reads a clock.
//!
//! All arithmetic saturates, so extreme claims (`exp` near `i64::MIN` or `i64::MAX`) give an
//! answer instead of overflowing. Negative margins are treated as zero: a caller that wants to
//! act early asks [`should_renew`] instead.

/// Whether a token with expiry `exp` is expired at `now`, allowing `leeway` seconds of clock skew.
///
/// Expired exactly when `now >= exp + leeway`. With no leeway this is RFC 7519 §4.1.4: a token is
/// usable only *before* its expiry, so at `now == exp` it is already expired. A negative leeway
/// counts as zero.
pub fn is_expired(exp: i64, now: i64, leeway: i64) -> bool {
    now >= exp.saturating_add(leeway.max(0))
}

/// Whether a client holding a token with expiry `exp` should renew it at `now`, given it wants at
/// least `threshold` seconds of life left.
///
/// True exactly when `exp - now <= threshold`: a token with exactly `threshold` seconds left is
/// renewed, and so is any expired token. A negative threshold counts as zero, which makes this
/// true exactly when the token is expired with no leeway.
pub fn should_renew(exp: i64, now: i64, threshold: i64) -> bool {
    exp.saturating_sub(now) <= threshold.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn expiry_boundaries() {
        assert!(!is_expired(100, 99, 0));
        assert!(is_expired(100, 100, 0), "usable only before exp");
        assert!(!is_expired(100, 104, 5), "inside the leeway");
        assert!(is_expired(100, 105, 5), "leeway ends like exp does");
        assert!(is_expired(100, 100, -5), "negative leeway is zero");
    }

    #[test]
    fn renewal_boundaries() {
        assert!(!should_renew(100, 39, 60));
        assert!(should_renew(100, 40, 60), "exactly threshold left");
        assert!(should_renew(100, 200, 60), "expired");
        assert!(!should_renew(100, 99, -1), "negative threshold is zero");
        assert!(should_renew(100, 100, -1));
    }

    #[test]
    fn extremes_saturate() {
        assert!(!is_expired(i64::MAX, i64::MAX - 1, i64::MAX));
        assert!(is_expired(i64::MIN, i64::MIN, 0));
        assert!(should_renew(i64::MIN, i64::MAX, 0));
        assert!(!should_renew(i64::MAX, i64::MIN, i64::MAX - 1));
    }

    proptest! {
        #[test]
        fn a_token_to_renew_is_never_one_that_is_still_fresh(
            exp in any::<i64>(), now in any::<i64>(), threshold in 0..i64::MAX,
        ) {
            // Expired (no leeway) implies renew, for any non-negative threshold.
            if is_expired(exp, now, 0) {
                prop_assert!(should_renew(exp, now, threshold));
            }
        }

        #[test]
        fn matches_exact_arithmetic(exp in any::<i64>(), now in any::<i64>(), margin in any::<i64>()) {
            let m = i128::from(margin.max(0));
            let (e, n) = (i128::from(exp), i128::from(now));
            // Saturation only changes answers at the very edge of i64, never in practice; check
            // the exact rule wherever the sum fits.
            if e + m <= i128::from(i64::MAX) {
                prop_assert_eq!(is_expired(exp, now, margin), n >= e + m);
            }
            if (e - n) >= i128::from(i64::MIN) && (e - n) <= i128::from(i64::MAX) {
                prop_assert_eq!(should_renew(exp, now, margin), e - n <= m);
            }
        }
    }
}
