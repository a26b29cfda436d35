//! The connection wrapper behind [`Reply::raw`](super::Reply::raw): hyper parses the
//! request (so it is recorded like any other), and when the scripted reply is raw bytes,
//! this wrapper writes those bytes to the socket instead of whatever hyper writes.
//!
//! hyper cannot be told to send a malformed response (that is the point of hyper), and
//! a second, hand-written HTTP server just for hostile replies would duplicate the
//! request parsing and recording. Swapping the bytes below hyper keeps one server: the
//! handler arms the switch with [`RawSwitch::arm`] and answers with an empty
//! `Connection: close` response; the first write hyper then makes is replaced by the raw
//! bytes, every later write is swallowed, and hyper closes the connection as it would
//! after any `Connection: close` response.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use hyper::body::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What the connection writes.
#[derive(Debug, Default)]
enum Mode {
    /// hyper's own bytes.
    #[default]
    Passthrough,
    /// These bytes, from `written` on, in place of hyper's.
    Raw { bytes: Bytes, written: usize },
    /// The raw bytes are out: hyper's writes go nowhere.
    Swallow,
}

/// The handle the request handler uses to arm a connection for raw bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawSwitch(Arc<Mutex<Mode>>);

impl RawSwitch {
    fn lock(&self) -> MutexGuard<'_, Mode> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next write on the connection sends `bytes` instead.
    pub(crate) fn arm(&self, bytes: Bytes) {
        *self.lock() = Mode::Raw { bytes, written: 0 };
    }
}

/// A TCP stream whose writes a [`RawSwitch`] can replace.
pub(crate) struct RawIo {
    stream: TcpStream,
    switch: RawSwitch,
}

impl RawIo {
    pub(crate) fn new(stream: TcpStream, switch: RawSwitch) -> Self {
        RawIo { stream, switch }
    }
}

impl AsyncRead for RawIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for RawIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut mode = this.switch.lock();
        loop {
            match &mut *mode {
                Mode::Passthrough => return Pin::new(&mut this.stream).poll_write(cx, buf),
                Mode::Swallow => return Poll::Ready(Ok(buf.len())),
                Mode::Raw { bytes, written } => {
                    let Some(rest) = bytes.get(*written..).filter(|rest| !rest.is_empty()) else {
                        *mode = Mode::Swallow;
                        continue;
                    };
                    match Pin::new(&mut this.stream).poll_write(cx, rest) {
                        Poll::Ready(Ok(0)) => {
                            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                        }
                        Poll::Ready(Ok(n)) => *written += n,
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
