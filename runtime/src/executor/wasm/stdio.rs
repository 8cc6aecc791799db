//! In-memory stdout and stderr for one step: each stream is captured up to a cap, and every byte
//! kept is also appended, in write order, to one interleaved log. A step may also have a
//! [`LogSink`], which sees each chunk of that log as it is appended, for callers that show a
//! step's output while it runs.
//!
//! Bytes past the cap are dropped, not refused: the guest sees every write succeed (as a program
//! writing to a full log pipe that is drained would), and the log gets one line saying where the
//! stream was cut. Refusing the write would make most programs fail on a chatty step.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// How many bytes a guest may hand over in one write; any positive number works since writes
/// never block.
const WRITE_PERMIT: usize = 1 << 20;

/// A callback that receives a step's interleaved log as it is written: every chunk appended to
/// [`RunOutcome::log`](super::RunOutcome::log), skiff's truncation notes included, in the order
/// they are appended, so that the chunks put together are exactly the final log. Cheap to clone.
///
/// It is called on the thread running the step, while the guest waits in its `fd_write`: keep it
/// short (hand the bytes to a channel), and do not panic in it (the panic would end
/// [`WasmRuntime::run`](super::WasmRuntime::run) with it).
#[derive(Clone)]
pub struct LogSink(Arc<SinkFn>);

/// The callback behind a [`LogSink`].
type SinkFn = dyn Fn(&[u8]) + Send + Sync;

impl LogSink {
    /// A sink that calls `f` with each chunk.
    pub fn new(f: impl Fn(&[u8]) + Send + Sync + 'static) -> Self {
        LogSink(Arc::new(f))
    }

    /// Hands `bytes` to the callback.
    pub fn write(&self, bytes: &[u8]) {
        (self.0)(bytes);
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink(..)")
    }
}

/// Which stream a [`CapturePipe`] feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Everything a step wrote, shared by its two pipes.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) log: Vec<u8>,
    limit: usize,
    truncated: [bool; 2],
}

impl Captured {
    /// Keeps what fits of `bytes`; returns how many bytes of it were kept and the truncation note
    /// appended after them, if this write is the one that crossed the cap, for the sink.
    fn append(&mut self, stream: Stream, bytes: &[u8]) -> (usize, Option<String>) {
        let (buf, index, name) = match stream {
            Stream::Stdout => (&mut self.stdout, 0, "stdout"),
            Stream::Stderr => (&mut self.stderr, 1, "stderr"),
        };
        let room = self.limit.saturating_sub(buf.len());
        let kept = &bytes[..bytes.len().min(room)];
        buf.extend_from_slice(kept);
        self.log.extend_from_slice(kept);
        let mut note = None;
        if kept.len() < bytes.len() && !self.truncated[index] {
            self.truncated[index] = true;
            let text = format!("\n[skiff: {name} truncated at {} bytes]\n", self.limit);
            self.log.extend_from_slice(text.as_bytes());
            note = Some(text);
        }
        (kept.len(), note)
    }
}

/// The shared capture of one step; hands out the two pipes and gives the bytes back at the end.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    captured: Arc<Mutex<Captured>>,
    /// The step's sink, and the lock that keeps its calls in log order: held from appending a
    /// chunk to the log until the sink has had it, so the sink runs outside the capture's lock
    /// yet two writers cannot hand it their chunks in the other order.
    sink: Option<(LogSink, Arc<Mutex<()>>)>,
}

impl Capture {
    pub(crate) fn new(limit: usize, sink: Option<LogSink>) -> Self {
        Capture {
            captured: Arc::new(Mutex::new(Captured {
                limit,
                ..Captured::default()
            })),
            sink: sink.map(|sink| (sink, Arc::default())),
        }
    }

    pub(crate) fn pipe(&self, stream: Stream) -> CapturePipe {
        CapturePipe {
            capture: self.clone(),
            stream,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A panic while holding this lock can only come from an allocation failure in `append`;
        // the bytes already captured are still the best answer.
        self.captured
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a write of `stream` to the capture, then hands what reached the log to the sink.
    fn append(&self, stream: Stream, bytes: &[u8]) {
        let Some((sink, order)) = &self.sink else {
            self.lock().append(stream, bytes);
            return;
        };
        // Poisoned only by a panicking sink, which already ended the step's run.
        let _order = order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (kept, note) = self.lock().append(stream, bytes);
        if kept > 0 {
            sink.write(&bytes[..kept]);
        }
        if let Some(note) = note {
            sink.write(note.as_bytes());
        }
    }

    /// Takes what was captured (the pipes may still be alive inside a store being dropped).
    pub(crate) fn take(&self) -> Captured {
        let mut guard = self.lock();
        let limit = guard.limit;
        std::mem::replace(
            &mut *guard,
            Captured {
                limit,
                ..Captured::default()
            },
        )
    }
}

/// One of a step's output streams, as wasmtime-wasi sees it.
#[derive(Debug, Clone)]
pub(crate) struct CapturePipe {
    capture: Capture,
    stream: Stream,
}

impl CapturePipe {
    fn append(&self, bytes: &[u8]) {
        self.capture.append(self.stream, bytes);
    }
}

impl IsTerminal for CapturePipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturePipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturePipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturePipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl AsyncWrite for CapturePipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_and_interleaved_in_the_log() {
        let capture = Capture::new(4, None);
        let mut out = capture.pipe(Stream::Stdout);
        let mut err = capture.pipe(Stream::Stderr);
        out.write(Bytes::from_static(b"ab")).unwrap();
        err.write(Bytes::from_static(b"E")).unwrap();
        out.write(Bytes::from_static(b"cdef")).unwrap();
        out.write(Bytes::from_static(b"gh")).unwrap();
        let got = capture.take();
        assert_eq!(got.stdout, b"abcd");
        assert_eq!(got.stderr, b"E");
        assert_eq!(
            String::from_utf8(got.log).unwrap(),
            "abEcd\n[skiff: stdout truncated at 4 bytes]\n"
        );
    }

    #[test]
    fn the_sink_sees_the_log_as_it_is_written() {
        let seen = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let sink = {
            let seen = Arc::clone(&seen);
            LogSink::new(move |chunk| seen.lock().unwrap().push(chunk.to_vec()))
        };
        let capture = Capture::new(4, Some(sink));
        let mut out = capture.pipe(Stream::Stdout);
        let mut err = capture.pipe(Stream::Stderr);
        out.write(Bytes::from_static(b"ab")).unwrap();
        assert_eq!(
            *seen.lock().unwrap(),
            [b"ab".to_vec()],
            "before the step ends"
        );
        err.write(Bytes::from_static(b"E")).unwrap();
        out.write(Bytes::from_static(b"cdef")).unwrap();
        out.write(Bytes::from_static(b"gh")).unwrap();
        let got = capture.take();
        let chunks = seen.lock().unwrap().clone();
        assert_eq!(
            chunks,
            [
                &b"ab"[..],
                b"E",
                b"cd",
                b"\n[skiff: stdout truncated at 4 bytes]\n"
            ]
        );
        assert_eq!(chunks.concat(), got.log);
    }
}
