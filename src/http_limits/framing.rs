//! Error bodies for the requests hyper refuses itself (`spec/http-api.md`
//! §2.3).
//!
//! A request head that does not parse never reaches the router: hyper 1.x
//! answers it on its own (`proto/h1/role.rs`, `Server::on_error`) with
//! `400 Bad Request`, `431 Request Header Fields Too Large` (a head larger
//! than its read buffer) or `414 URI Too Long`, an empty body and
//! `connection: close`, then closes. hyper offers no hook for that answer,
//! so [`Framing`] wraps the connection's socket and, when hyper writes
//! exactly that answer, sends the server's own error answer in its place.
//!
//! The match is on hyper's exact bytes and only at the end of a write:
//! hyper writes its answer last, after any answer already due on the
//! connection. The router never answers 400/414/431 with an empty body and
//! `connection: close`, so none of its answers is rewritten. An answer split
//! by a partial write of the socket goes out unchanged (status right, body
//! empty).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tallyboard_core::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How a server spells an error answer: its content type and body for a
/// code and a message (the board's JSON shape, the witness's text form).
pub type ErrorBody = fn(ErrorCode, &str) -> (&'static str, Vec<u8>);

/// hyper's automatic answers: status line, code and message.
const ANSWERS: [(&str, ErrorCode, &str); 3] = [
    (
        "HTTP/1.1 400 Bad Request",
        ErrorCode::RequestMalformed,
        "the request line or a header is not valid HTTP/1.1",
    ),
    (
        "HTTP/1.1 431 Request Header Fields Too Large",
        ErrorCode::HeaderTooLarge,
        "the request head is larger than the server reads",
    ),
    (
        "HTTP/1.1 414 URI Too Long",
        ErrorCode::UriTooLong,
        "the request target is longer than the server reads",
    ),
];

/// What follows hyper's status line, up to its `date` header's value.
const HEADERS: &[u8] = b"\r\nconnection: close\r\ncontent-length: 0\r\ndate: ";
/// An IMF-fixdate (RFC 9110 §5.6.7) is 29 bytes; then the end of the head.
const DATE_AND_END: usize = 29 + 4;

/// If `buf` ends with one of hyper's automatic answers: where it starts,
/// and its code and message.
fn automatic_answer(buf: &[u8]) -> Option<(usize, ErrorCode, &'static str)> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    ANSWERS.iter().find_map(|&(status, code, message)| {
        let len = status.len() + HEADERS.len() + DATE_AND_END;
        let start = buf.len().checked_sub(len)?;
        let tail = &buf[start..];
        (tail.starts_with(status.as_bytes()) && tail[status.len()..].starts_with(HEADERS))
            .then_some((start, code, message))
    })
}

/// The answer sent instead of hyper's.
fn replacement(status: &str, code: ErrorCode, message: &str, body: ErrorBody) -> Vec<u8> {
    let (content_type, body) = body(code, message);
    let mut out = format!(
        "{status}\r\nconnection: close\r\ncontent-type: {content_type}\r\n\
         cache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// A socket whose writes pass through, but for hyper's automatic answers.
pub struct Framing<T> {
    inner: T,
    body: ErrorBody,
    /// The replacement answer and how much of it was written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> Framing<T> {
    /// Wraps `inner`; `body` spells the server's error answers.
    pub fn new(inner: T, body: ErrorBody) -> Self {
        Framing {
            inner,
            body,
            pending: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> Framing<T> {
    /// Writes out the replacement answer, if any.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Framing<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Framing<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        match automatic_answer(buf) {
            // Everything before hyper's answer goes out first, as written.
            Some((start, _, _)) if start > 0 => {
                Pin::new(&mut this.inner).poll_write(cx, &buf[..start])
            }
            Some((_, code, message)) => {
                let status = std::str::from_utf8(&buf[..buf.len() - HEADERS.len() - DATE_AND_END])
                    .unwrap_or("HTTP/1.1 400 Bad Request");
                // hyper's bytes count as written; their replacement goes
                // out before anything else (hyper flushes next, then closes).
                this.pending = Some((replacement(status, code, message, this.body), 0));
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then hands over each answer as one buffer
    // (its "flatten" strategy), which is what the match above needs.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(code: ErrorCode, message: &str) -> (&'static str, Vec<u8>) {
        (
            "application/json",
            format!(
                "{{\"code\":\"{}\",\"message\":\"{message}\"}}",
                code.as_str()
            )
            .into_bytes(),
        )
    }

    const DATE: &str = "Sat, 05 Dec 2026 16:53:09 GMT";

    #[test]
    fn hyper_answers_are_recognised_and_nothing_else() {
        for (status, code, _) in ANSWERS {
            let hyper = format!(
                "{status}\r\nconnection: close\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n"
            );
            assert_eq!(
                automatic_answer(hyper.as_bytes()).map(|a| (a.0, a.1)),
                Some((0, code))
            );
            // After an answer already due on the connection.
            let before = format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ndate: {DATE}\r\n\r\nok");
            let both = format!("{before}{hyper}");
            assert_eq!(
                automatic_answer(both.as_bytes()).map(|a| a.0),
                Some(before.len())
            );
            // Split by a partial write: not recognised.
            assert_eq!(automatic_answer(&hyper.as_bytes()[1..]), None);
        }
        // The router's own answers carry a body.
        let ours = format!("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\ndate: {DATE}\r\n\r\n{{}}");
        assert_eq!(automatic_answer(ours.as_bytes()), None);
        let not_closing =
            format!("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n");
        assert_eq!(automatic_answer(not_closing.as_bytes()), None);
    }

    #[test]
    fn the_replacement_carries_the_error_body() {
        let r = String::from_utf8(replacement(
            "HTTP/1.1 431 Request Header Fields Too Large",
            ErrorCode::HeaderTooLarge,
            "too big",
            json,
        ))
        .unwrap();
        let body = "{\"code\":\"request.header-too-large\",\"message\":\"too big\"}";
        assert!(r.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-type: application/json\r\n"), "{r}");
        assert!(
            r.ends_with(&format!("content-length: {}\r\n\r\n{body}", body.len())),
            "{r}"
        );
    }
}
