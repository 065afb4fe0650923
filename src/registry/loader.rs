//! The one thread every model load of the process runs on, one load at a time.
//!
//! A load runs apart from the serving threads (a large model takes a second to load, which a
//! serving thread must not spend), after any other (the loading budget bounds what loading
//! holds in the whole process, not what each of several loads at once would hold), and always
//! on the same thread: the memory the allocator keeps after one load is what the next one
//! reuses, where loads on threads in turn would each leave some behind in their thread's own
//! arena. A load that panics fails like a malformed file; the thread goes on.
//!
//! What must not live here: what a load does (`LoadedModel`), when loads happen (`refresh`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{OnceLock, mpsc};

type Job = Box<dyn FnOnce() + Send>;

/// The loader thread's queue, started with the first load. A process has one, hence a static.
static QUEUE: OnceLock<Result<mpsc::Sender<Job>, String>> = OnceLock::new();

fn queue() -> Result<&'static mpsc::Sender<Job>, String> {
    QUEUE
        .get_or_init(|| {
            let (sender, jobs) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("skserve-loader".into())
                .spawn(move || {
                    for job in jobs {
                        job();
                    }
                })
                .map(|_| sender)
                .map_err(|e| format!("cannot start the loader thread: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `load` on the loader thread once the loads before it are done, and returns what it
/// returned; `Err` says why it did not return (its panic's message).
pub async fn run<T: Send + 'static>(
    load: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(load)).map_err(panic_message));
    });
    queue()?
        .send(job)
        .map_err(|_| "the loader thread has stopped".to_owned())?;
    result
        .await
        .map_err(|_| "the loader thread has stopped".to_owned())?
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_run_in_turn_on_one_thread_and_a_panic_is_an_error() {
        let name = || std::thread::current().name().map(str::to_owned);
        let first = run(name).await.unwrap();
        assert_eq!(first.as_deref(), Some("skserve-loader"));
        let err = run(|| -> u8 { panic!("a file the loader could not read") })
            .await
            .unwrap_err();
        assert_eq!(err, "a file the loader could not read");
        assert_eq!(run(name).await.unwrap(), first, "the thread goes on");
    }
}
