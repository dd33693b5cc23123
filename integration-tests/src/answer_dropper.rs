//! A TCP proxy in front of a gRPC server that, when armed, cuts the connection carrying the
//! next answer just before that answer reaches the client: the server did the work and
//! committed it, the client never hears of it. What a replica killed between its commit and its
//! answer does to its callers, on demand.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// HTTP/2's frame header: 3 bytes of length, type, flags, 4 bytes of stream id.
const FRAME_HEADER: usize = 9;
/// The frame type that opens an answer (a response's headers, or a trailers-only status).
const HEADERS: u8 = 0x1;

pub struct AnswerDropper {
    pub port: u16,
    armed: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl AnswerDropper {
    /// A proxy to the server on `backend`, passing everything until armed.
    pub async fn start(backend: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("the proxy's port");
        let port = listener.local_addr().expect("bound").port();
        let armed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let (armed_in, dropped_in, token) = (armed.clone(), dropped.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                let (armed, dropped, token) = (armed_in.clone(), dropped_in.clone(), token.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], backend))).await else {
                        return;
                    };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    // Whichever direction ends first ends the connection: both sockets drop.
                    tokio::select! {
                        _ = token.cancelled() => {}
                        _ = tokio::io::copy(&mut from_client, &mut to_server) => {}
                        _ = relay_answers(&mut from_server, &mut to_client, &armed, &dropped) => {}
                    }
                });
            }
        });
        Self {
            port,
            armed,
            dropped,
            stop,
        }
    }

    /// The next answer from the server, on whichever connection, is cut off with its
    /// connection.
    pub fn drop_next_answer(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// How many answers were cut off.
    pub fn answers_dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for AnswerDropper {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Copies the server's frames to the client; returns (closing the connection) instead of
/// passing on the first answer's headers while armed.
async fn relay_answers(
    from_server: &mut tokio::net::tcp::OwnedReadHalf,
    to_client: &mut tokio::net::tcp::OwnedWriteHalf,
    armed: &AtomicBool,
    dropped: &AtomicUsize,
) -> std::io::Result<()> {
    // A server's side of HTTP/2 starts with its SETTINGS frame: frames from the first byte.
    let mut header = [0u8; FRAME_HEADER];
    loop {
        from_server.read_exact(&mut header).await?;
        let length = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let stream = u32::from_be_bytes([header[5] & 0x7f, header[6], header[7], header[8]]);
        let mut payload = vec![0u8; length];
        from_server.read_exact(&mut payload).await?;
        if header[3] == HEADERS && stream != 0 && armed.swap(false, Ordering::SeqCst) {
            dropped.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        to_client.write_all(&header).await?;
        to_client.write_all(&payload).await?;
    }
}
