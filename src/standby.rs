//! A standby board (`spec/storage.md` §8.3): `serve` on a PostgreSQL store
//! whose writer lease another board holds. It serves the log read-only
//! (the same router as a mirror, with writes refused by a retryable `503
//! board.standby`), follows what the writer commits every 250 ms,
//! re-validating each entry under the rules, and, once the lease is free
//! (the writer stopped, or has not renewed it for 5 s), stops serving and
//! returns so that the caller opens the store as its writer, on the same
//! address.

use crate::board::Board;
use crate::mirror::MirrorStatus;
use crate::server::{self, LiveLimits};
use crate::signer::RoleSigner;
use anyhow::{anyhow, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How often a standby follows the writer and looks at the lease.
const STEP: Duration = Duration::from_millis(250);

/// Whether `e` is one a standby waits out: the lease held by another
/// board, or the database away (failing over).
fn waitable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<crate::store::StoreError>()
        .is_some_and(|s| {
            matches!(
                tallyboard_core::error::Coded::code(s),
                tallyboard_core::ErrorCode::StoreLocked
                    | tallyboard_core::ErrorCode::StoreUnavailable
            )
        })
}

/// Opens the board at `data` as its writer, standing by (and serving reads
/// on `listen`) for as long as another board writes. Returns the writer
/// board and the address to serve it on (the one the standby bound, so
/// that readers and stations keep the same URL). `announce` is called with
/// each address the standby starts serving on.
pub fn until_writer(
    data: &Path,
    key: &RoleSigner,
    mut listen: SocketAddr,
    live: LiveLimits,
    announce: &(dyn Fn(SocketAddr) + Sync),
) -> Result<(Board, SocketAddr)> {
    let mut said = false;
    loop {
        match Board::open(data, key.clone()) {
            Ok(b) => return Ok((b, listen)),
            Err(e) if waitable(&e) => {
                if !said {
                    eprintln!("standing by: {e}");
                    said = true;
                }
            }
            Err(e) => return Err(e),
        }
        match stand_by(data, key, listen, live, announce) {
            Ok(addr) => listen = addr,
            Err(e) => {
                // The database may be away (failing over): try again.
                tracing::warn!(error = %format!("{e:#}"), "standing by");
                std::thread::sleep(STEP);
            }
        }
    }
}

/// Serves the store read-only and follows the writer until the lease is
/// free; returns the address it served on.
fn stand_by(
    data: &Path,
    key: &RoleSigner,
    listen: SocketAddr,
    live: LiveLimits,
    announce: &(dyn Fn(SocketAddr) + Sync),
) -> Result<SocketAddr> {
    let mut board = Board::open_standby(data, key.clone())?;
    let ro = server::ReadOnly {
        manifest: board.manifest().clone(),
        store: board.store().handle(),
        published: board.published(),
        status: Arc::new(MirrorStatus::standby()),
        live,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server = std::thread::Builder::new()
        .name("standby-server".into())
        .spawn(move || {
            server::serve_read_only(
                ro,
                listen,
                move |a| {
                    let _ = addr_tx.send(a);
                },
                stop_rx,
            )
        })?;
    let addr = match addr_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a,
        Err(_) => {
            return Err(match server.join() {
                Ok(Err(e)) => e,
                _ => anyhow!("the standby's server did not start"),
            })
        }
    };
    announce(addr);
    tracing::info!(%addr, size = board.size(), "standing by, serving reads");
    let result = loop {
        std::thread::sleep(STEP);
        if let Err(e) = board.follow() {
            break Err(e);
        }
        match board.lease_free() {
            Ok(true) => break Ok(()),
            Ok(false) => {}
            Err(e) => break Err(e),
        }
    };
    let _ = stop_tx.send(());
    let _ = server.join();
    result.map(|()| addr)
}
