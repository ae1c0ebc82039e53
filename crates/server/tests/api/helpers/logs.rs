//! One log capture for the whole test binary, so tests can prove what never reaches a log.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything any test in this binary logged, at every level, from every crate.
pub fn captured_logs() -> String {
    let buffer = LOGS.get().expect("logs are captured").lock().unwrap();
    String::from_utf8_lossy(&buffer).into_owned()
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

/// Installs the capturing subscriber the first time it is called; later calls do nothing.
pub fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = SharedWriter(buffer.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buffer
    });
}

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
