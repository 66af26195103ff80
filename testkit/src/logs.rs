//! Log lines captured while a test runs, to assert what a server logged.
//!
//! One process-wide subscriber (installed on first use) writes each event to the
//! capture of the thread that emitted it. A per-test `set_default` subscriber is not
//! enough: tests run in parallel threads and `tracing` caches each call site's interest
//! process-wide, so a capture could miss the very warning it waits for.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

/// Log lines written while a test runs, on the threads that capture into it (the
/// servers of these tests run on the test's current-thread runtime).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

thread_local! {
    static SINK: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// The process-wide subscriber's writer: appends to this thread's capture, if any.
struct ThreadSink;

impl Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|sink| {
            if let Some(captured) = sink.borrow().as_ref() {
                captured.0.lock().expect("lock").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ends this thread's capture when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// Captures `WARN` and above emitted on this thread until the guard is dropped.
///
/// # Panics
/// If another global subscriber was installed first (the capture would stay empty).
pub fn capture_logs() -> (Captured, CaptureGuard) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(|| ThreadSink)
            .try_init()
            .expect("the log capture is the only global subscriber of the test binary");
    });
    let captured = Captured::default();
    SINK.with(|sink| *sink.borrow_mut() = Some(captured.clone()));
    (captured, CaptureGuard(()))
}
