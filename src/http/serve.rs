//! Serving the daemon's router with limits a slow or hostile client cannot
//! get around: the request headers must arrive within
//! `http.header_read_timeout_secs`, a whole request (body included) must be
//! answered within `http.request_timeout_secs`, and at most
//! `http.max_connections` connections are served at once. Connections over
//! the limit get `503` and are closed; once a few more than that are
//! waiting for their `503`, new ones are closed at once.
//!
//! HTTP/1.1 only, through hyper directly: `axum::serve` has no header-read
//! timeout (hyper applies one only when given a timer).
//!
//! Each request is logged at debug level, once answered: method, matched
//! route, status and latency. Never the query string (a gateway's receipt URL
//! carries the phone number or a token there), a header or a body.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::config::HttpSettings;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a request may take, reading its body and answering it.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl ServerLimits {
    /// The limits `[http]` configures.
    pub fn from_settings(http: &HttpSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            request_timeout: Duration::from_secs(http.request_timeout_secs),
            max_connections: usize::try_from(http.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Serves `app` on `listener` until `shutdown`, then lets the requests in
/// progress finish (each within the request timeout) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let deadline = limits.request_timeout;
    let app = app
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            within(deadline, request, next)
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                // A 5xx gets the same debug line as any answer, no error line of its own:
                // readiness answers 503 for as long as the database is away.
                .on_failure(())
                .on_eos(()),
        );
    let busy = Router::new().fallback(too_many_connections);
    let served = Arc::new(Semaphore::new(limits.max_connections));
    // Connections being told 503: bounded too, or a flood would be.
    let refused = Arc::new(Semaphore::new(limits.max_connections.clamp(1, 64)));
    let tracker = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept an HTTP connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if let Ok(permit) = served.clone().try_acquire_owned() {
            tracker.spawn(connection(stream, app.clone(), limits, permit, shutdown.clone()));
        } else if let Ok(permit) = refused.clone().try_acquire_owned() {
            tracing::warn!(
                limit = limits.max_connections,
                "too many HTTP connections; answering 503"
            );
            tracker.spawn(connection(stream, busy.clone(), limits, permit, shutdown.clone()));
        } else {
            drop(stream);
        }
    }
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// One connection, served until the client closes it, a limit closes it,
/// or the server stops (after the request in progress).
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: ServerLimits,
    _permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // A client that went away or was too slow: nothing to do but note it.
        tracing::debug!(error = %e, "HTTP connection closed");
    }
}

/// Answers `request` within `limit`, or 503.
async fn within(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "HTTP request timed out");
            let body = format!("the request did not finish within {} s\n", limit.as_secs());
            (StatusCode::SERVICE_UNAVAILABLE, [(header::CONNECTION, "close")], body).into_response()
        }
    }
}

/// The span of one request: its method and matched route (the route's
/// pattern, `/receipts/{gateway}`), not its URI. A path no route matches is
/// not named either: it is the client's text, and may hold anything.
fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", MatchedPath::as_str);
    tracing::debug_span!("http", method = %request.method(), route = %route)
}

/// The request's log line, in its span, once answered.
fn log_response<B>(response: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    tracing::debug!(
        status = response.status().as_u16(),
        latency_ms = (latency.as_secs_f64() * 1e6).round() / 1e3,
        "HTTP request"
    );
}

/// The answer on a connection over the limit.
async fn too_many_connections() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONNECTION, "close"), (header::RETRY_AFTER, "1")],
        "too many connections; try again\n",
    )
        .into_response()
}
