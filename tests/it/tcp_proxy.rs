//! A TCP proxy on 127.0.0.1:0 in front of one upstream address, which a
//! test can cut and restore, to play a network partition between the daemon
//! and its database.
//!
//! While cut, nothing passes in either direction: bytes already in flight
//! stay where they are and new connections are accepted but never joined to
//! the upstream, so a client sees silence (its timeouts fire), not a refusal.
//! On restore, every connection that lived through the cut is closed, as TCP
//! connections are after a partition longer than their retransmissions, and
//! new connections pass again.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Whether traffic passes, and which generation of connections may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    /// Traffic passes.
    up: bool,
    /// Bumped by every restore; connections of an older generation close.
    generation: u64,
}

/// A running proxy; dropping it stops accepting.
pub struct TcpProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    link: Arc<watch::Sender<Link>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let link = Arc::new(
            watch::channel(Link {
                up: true,
                generation: 0,
            })
            .0,
        );
        let accepting = link.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream, accepting.subscribe()));
            }
        });
        Self { addr, link, accept }
    }

    /// Stops all traffic, in both directions, on every connection.
    pub fn cut(&self) {
        self.link.send_modify(|l| l.up = false);
    }

    /// Lets traffic pass again; connections that lived through the cut close.
    pub fn restore(&self) {
        self.link.send_modify(|l| {
            l.up = true;
            l.generation += 1;
        });
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Waits until the link is up; false when this connection's generation is over.
async fn wait_up(link: &mut watch::Receiver<Link>, generation: u64) -> bool {
    loop {
        let now = *link.borrow_and_update();
        if now.generation != generation {
            return false;
        }
        if now.up {
            return true;
        }
        if link.changed().await.is_err() {
            return false;
        }
    }
}

/// One client connection: joined to the upstream once the link is up, then
/// copied both ways while it stays up.
async fn serve(client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let generation = link.borrow().generation;
    if !wait_up(&mut link, generation).await {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pipe(client_read, server_write, link.clone(), generation) => {}
        () = pipe(server_read, client_write, link, generation) => {}
    }
}

/// Copies `from` to `to`, holding each chunk while the link is down.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut link: watch::Receiver<Link>,
    generation: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !wait_up(&mut link, generation).await {
            return;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            // A cut while waiting for bytes: go back and wait for the link.
            Ok(()) = link.changed() => continue,
        };
        if !wait_up(&mut link, generation).await {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
