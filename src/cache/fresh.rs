//! A value read from the database that must be at least as new as the
//! request asking for it, with concurrent requests sharing one read.
//!
//! A read that started before a caller arrived cannot answer that caller
//! (a revocation committed just before the caller arrived might not be in
//! it); a read that starts after can answer every caller that arrived
//! before it started. So while a read is running, callers that arrive wait
//! for the next one, and that next read answers all of them at once: under
//! load, many requests share one database round trip, and each still sees
//! every change committed before it arrived.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

type ReadFuture<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Shared reads of one value.
pub struct FreshRead<T> {
    state: Arc<Mutex<State>>,
    published: watch::Sender<Published<T>>,
    read: Arc<dyn Fn() -> ReadFuture<T> + Send + Sync>,
}

impl<T> std::fmt::Debug for FreshRead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshRead").finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Reads started so far; the running one, if any, is number `started`.
    started: u64,
    running: bool,
    /// A caller arrived while a read was running.
    wanted: bool,
}

/// The outcome of read number `read` (0: none yet).
#[derive(Debug, Clone)]
struct Published<T> {
    read: u64,
    value: Option<Result<T, String>>,
}

impl<T: Clone + Send + Sync + 'static> FreshRead<T> {
    /// `read` reads the value (an error is passed, as text, to every caller
    /// that waited for that read).
    pub fn new<F, Fut>(read: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, String>> + Send + 'static,
    {
        let (published, _) = watch::channel(Published { read: 0, value: None });
        FreshRead {
            state: Arc::new(Mutex::new(State::default())),
            published,
            read: Arc::new(move || Box::pin(read()) as ReadFuture<T>),
        }
    }

    /// The value as of a read that started after this call.
    pub async fn get(&self) -> Result<T, String> {
        let mut receiver = self.published.subscribe();
        let needed = {
            let mut state = self.state.lock().expect("fresh-read state");
            if state.running {
                state.wanted = true;
                state.started + 1
            } else {
                state.running = true;
                state.started += 1;
                self.spawn_reads(state.started);
                state.started
            }
        };
        let published = receiver
            .wait_for(|p| p.read >= needed)
            .await
            .map_err(|_| "the reader of a shared value stopped".to_owned())?;
        published.value.clone().unwrap_or_else(|| Err("no value was read".to_owned()))
    }

    /// Runs read number `first`, then one more for as long as callers
    /// arrived during the last one. A task of its own: a caller that gives
    /// up (a timed-out request) does not stop the reads others wait for.
    fn spawn_reads(&self, first: u64) {
        let state = Arc::clone(&self.state);
        let published = self.published.clone();
        let read = Arc::clone(&self.read);
        tokio::spawn(async move {
            let mut number = first;
            loop {
                let value = read().await;
                published.send_replace(Published { read: number, value: Some(value) });
                let mut state = state.lock().expect("fresh-read state");
                if !state.wanted {
                    state.running = false;
                    return;
                }
                state.wanted = false;
                state.started += 1;
                number = state.started;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    /// A value that counts its reads and takes a while to read.
    fn counter() -> (Arc<AtomicU64>, FreshRead<u64>) {
        let reads = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&reads);
        let fresh = FreshRead::new(move || {
            let counted = Arc::clone(&counted);
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(counted.fetch_add(1, Ordering::SeqCst) + 1)
            }
        });
        (reads, fresh)
    }

    #[tokio::test]
    async fn a_caller_never_gets_a_read_that_started_before_it_arrived() {
        let (reads, fresh) = counter();
        let fresh = Arc::new(fresh);
        assert_eq!(fresh.get().await.unwrap(), 1);
        // Arrives while read 2 runs: must get read 3.
        let first = tokio::spawn({
            let fresh = Arc::clone(&fresh);
            async move { fresh.get().await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = fresh.get().await.unwrap();
        assert_eq!(first.await.unwrap(), 2);
        assert_eq!(second, 3);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn callers_arriving_during_one_read_share_the_next() {
        let (reads, fresh) = counter();
        let fresh = Arc::new(fresh);
        let running = tokio::spawn({
            let fresh = Arc::clone(&fresh);
            async move { fresh.get().await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        let waiting: Vec<_> = (0..20)
            .map(|_| {
                let fresh = Arc::clone(&fresh);
                tokio::spawn(async move { fresh.get().await.unwrap() })
            })
            .collect();
        assert_eq!(running.await.unwrap(), 1);
        for caller in waiting {
            assert_eq!(caller.await.unwrap(), 2);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2, "twenty callers, one read");
    }

    #[tokio::test]
    async fn errors_reach_the_callers_and_the_next_read_is_fresh() {
        let fail = Arc::new(AtomicU64::new(1));
        let flag = Arc::clone(&fail);
        let fresh = FreshRead::new(move || {
            let flag = Arc::clone(&flag);
            async move { if flag.load(Ordering::SeqCst) == 1 { Err("down".to_owned()) } else { Ok(7u64) } }
        });
        assert_eq!(fresh.get().await, Err("down".to_owned()));
        fail.store(0, Ordering::SeqCst);
        assert_eq!(fresh.get().await, Ok(7));
    }
}
