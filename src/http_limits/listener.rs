//! The HTTP/1.1 accept loop of the board and the witness.
//!
//! `axum::serve` gives hyper no timer, and without one hyper's header read
//! timeout never fires: a client sending its request a byte a minute
//! (slowloris) would hold a connection and its task forever. This loop
//! serves each connection with hyper's HTTP/1 builder itself, with
//!
//! * a timer and [`SlowClientLimits::header_timeout`]: hyper starts it
//!   whenever it waits for a request head, so it also closes a keep-alive
//!   connection left idle that long;
//! * a deadline on the whole request body ([`DeadlineBody`], started when
//!   the head is complete): a handler reading the body past it gets
//!   [`super::BodyError::TimedOut`] and answers 408;
//! * the peer address as axum's [`ConnectInfo`] (for the per-address rate
//!   limit of submissions);
//! * the server's error body on the answers hyper gives itself to a
//!   request head it cannot parse ([`super::framing`]);
//! * graceful shutdown as in `axum::serve`: stop accepting, let every
//!   connection finish the request in flight, then return.

use super::framing::{ErrorBody, Framing};
use super::SlowClientLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower::Service;
use tower_http::timeout::DeadlineBody;

/// Serves `app` on `listener` until `shutdown` completes, then waits for the
/// requests in flight. `errors` spells the answers to requests hyper
/// refuses before the router sees them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: SlowClientLimits,
    errors: ErrorBody,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    serve_with(listener, app, limits, errors, None, shutdown).await
}

/// As [`serve`], over TLS when `tls` is given: each connection's handshake
/// must complete within the header timeout, or the connection is dropped
/// (a slow handshake holds a connection as a slow head would).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: SlowClientLimits,
    errors: ErrorBody,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    // Connection tasks watch `stop`; each holds a clone of `alive`, so
    // `done` yields None once every connection has ended.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (alive, mut done) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, typically: back off rather
                    // than spin, and keep serving the connections we have.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let stop = stop_rx.clone();
        let alive = alive.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, app, limits, errors, stop).await,
                Some(tls) => {
                    match tokio::time::timeout(limits.header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, peer, app, limits, errors, stop).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(alive);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive);
    let _ = done.recv().await;
    Ok(())
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    limits: SlowClientLimits,
    errors: ErrorBody,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let mut app = app.clone();
        let mut req = req.map(|b| Body::new(DeadlineBody::new(body_timeout, b)));
        req.extensions_mut().insert(ConnectInfo(peer));
        // A Router is always ready, so calling it directly is allowed.
        app.call(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(Framing::new(stream, errors)), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        // (The watch guard must not live across the await below.)
        () = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
    }
}
