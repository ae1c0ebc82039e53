//! Failures a test can ask the fake to serve instead of a normal answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One way the real WeChat has been seen to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A WeChat error body with this `errcode`, served with HTTP 200 as WeChat does.
    Errcode(i64),
    /// HTTP 500 with an HTML body, as a failing gateway in front of WeChat answers.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// Accept the request and never answer.
    Hang,
    /// HTTP 200 with an answer far larger than any WeChat sends: an `errcode` 40029 body after
    /// [`OVERSIZED_PADDING`] bytes of JSON white space, sent without a `Content-Length`. A reader
    /// without a size cap buffers it all and reads "invalid code".
    Oversized,
}

/// The white space an [`Fault::Oversized`] answer starts with: more than any answer's cap.
pub const OVERSIZED_PADDING: usize = 8 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct FaultQueue {
    queue: Mutex<VecDeque<Fault>>,
    calls: AtomicUsize,
}

impl FaultQueue {
    pub(crate) fn push(&self, fault: Fault, times: usize) {
        let mut queue = self.queue.lock().unwrap();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Counts a call and hands back the fault it should suffer, if any.
    pub(crate) fn next_call(&self) -> Option<Fault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.queue.lock().unwrap().pop_front()
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}
