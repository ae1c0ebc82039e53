//! Property tests through the router: values drawn from a proptest strategy, each sent and
//! checked in turn inside the test's own runtime and database.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};

/// Cases per property: proptest's `PROPTEST_CASES` when set (a million outside CI), else 256.
pub fn fuzz_cases() -> u32 {
    Config::default().cases
}

/// `fuzz_cases()` values drawn from `strategy`, one at a time, reproducible from the seed
/// proptest reports on failure (`PROPTEST_RNG_SEED`).
pub fn draws<S: Strategy>(strategy: S) -> impl Iterator<Item = S::Value> {
    let mut runner = TestRunner::new(Config::default());
    (0..fuzz_cases()).map(move |_| {
        strategy
            .new_tree(&mut runner)
            .expect("the strategy draws a value")
            .current()
    })
}
