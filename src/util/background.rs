//! Work a command's answer does not wait for (writing a cache): done on a thread of its own
//! while the command goes on, and waited for before the process ends ([`wait`], called by
//! `cli::main` once the output is flushed), so nothing is cut off half-written.
//!
//! One piece of work at a time: starting one first waits for the one before, so two writes
//! of the same file never race and a long-running process (the dashboard) holds no more
//! than one thread here.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

static RUNNING: Mutex<Option<JoinHandle<()>>> = Mutex::new(None);

/// Run `work` on its own thread (here and now when no thread can be started).
pub fn run(work: impl FnOnce() + Send + 'static) {
    let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(before) = running.take() {
        let _ = before.join();
    }
    // Kept reachable from here: a thread that fails to start drops what it was given.
    let slot = Arc::new(Mutex::new(Some(work)));
    let theirs = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("kitty-background".into())
        .spawn(move || take(&theirs).map_or((), |work| work()));
    match spawned {
        Ok(handle) => *running = Some(handle),
        Err(_) => take(&slot).map_or((), |work| work()),
    }
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Wait for the work started by [`run`], if any.
pub fn wait() {
    let handle = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(handle) = handle {
        let _ = handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_is_done_in_order_and_waited_for() {
        static DONE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        for i in 0..3 {
            run(move || {
                // Later pieces would overtake a slow first one if they did not wait for it.
                std::thread::sleep(std::time::Duration::from_millis(30 - 10 * i as u64));
                DONE.lock().unwrap().push(i);
            });
        }
        wait();
        assert_eq!(*DONE.lock().unwrap(), [0, 1, 2]);
        wait(); // nothing left: returns at once
    }
}
