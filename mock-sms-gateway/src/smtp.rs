//! A tiny SMTP sink for dry runs (`pengingat demo`): it answers the plain
//! SMTP dialogue (no TLS, no AUTH) lettre speaks, accepts every message and
//! only counts it. Not a mail server: nothing is stored or relayed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Messages the sink accepted.
#[derive(Debug, Default)]
pub struct SmtpCount(AtomicU64);

impl SmtpCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Accepts SMTP sessions on `listener` until `cancel`.
pub async fn run_smtp_sink(listener: TcpListener, count: Arc<SmtpCount>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(session(stream, count.clone()));
                }
            }
        }
    }
}

/// One SMTP session; any I/O error ends it.
async fn session(stream: TcpStream, count: Arc<SmtpCount>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 mock-smtp ESMTP\r\n").await?;
    let mut in_data = false;
    while let Some(line) = lines.next_line().await? {
        if in_data {
            if line == "." {
                in_data = false;
                count.0.fetch_add(1, Ordering::Relaxed);
                write.write_all(b"250 2.0.0 accepted\r\n").await?;
            }
            continue;
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-mock-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "DATA" => {
                in_data = true;
                b"354 end with <CRLF>.<CRLF>\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 ok\r\n",
            _ => b"502 5.5.2 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
