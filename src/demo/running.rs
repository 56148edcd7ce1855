//! A board serving on its own thread, as the demo runs each round's: started
//! with its configuration, known by the URL it bound, stopped (or waited
//! for) as one thing, so that the first round, the second round and their
//! teardown on a failed audit all do it the same way.

use crate::board::Board;
use crate::server;
use anyhow::{anyhow, Context, Result};
use std::time::Duration;

/// A serving board and the means to stop it.
pub(crate) struct RunningBoard {
    /// `http://ADDR`, the address it bound.
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl RunningBoard {
    /// Serves `board` with `config` on a thread named `name`, and waits (at
    /// most a minute) for the address it binds.
    pub(crate) fn start(board: Board, config: server::Config, name: &str) -> Result<RunningBoard> {
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                server::serve_until(
                    board,
                    config,
                    move |a| {
                        let _ = addr_tx.send(a);
                    },
                    stop_rx,
                )
            })?;
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(60))
            .with_context(|| format!("{name}: the board did not start"))?;
        Ok(RunningBoard {
            url: format!("http://{addr}"),
            stop,
            thread,
        })
    }

    /// Stops the board and waits for its thread's result.
    pub(crate) fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        join(self.thread)
    }

    /// Waits for the board's thread (it serves until the process is
    /// interrupted, or until [`Self::stop`]).
    pub(crate) fn wait(self) -> Result<()> {
        join(self.thread)
    }
}

fn join(thread: std::thread::JoinHandle<Result<()>>) -> Result<()> {
    thread
        .join()
        .map_err(|_| anyhow!("the board's thread panicked"))?
}
