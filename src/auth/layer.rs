//! The tower layer that runs [`AccessControl`] before the routes it wraps. A
//! token seen recently is decided synchronously (a hash and a cache read), and the request
//! goes straight to the route; only a new token waits for verification.

use std::convert::Infallible;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::Extensions;
use axum::response::Response;
use tower::{Layer, Service};

use super::{AccessControl, Decision};

/// Where a request's extensions say it came from: the transport, which sits above this layer,
/// records the peer its own way.
pub type PeerOf = fn(&Extensions) -> Option<IpAddr>;

/// Wraps routes with [`RequireAuth`].
#[derive(Clone, Debug)]
pub struct AuthLayer {
    access: Arc<AccessControl>,
    peer_of: PeerOf,
    /// Paths answered without the checks (the health probes).
    open: &'static [&'static str],
}

impl AuthLayer {
    pub fn new(access: Arc<AccessControl>, peer_of: PeerOf) -> Self {
        Self {
            access,
            peer_of,
            open: &[],
        }
    }

    /// The same checks, except for requests to exactly these paths, whatever their method.
    pub fn open_to_all(self, open: &'static [&'static str]) -> Self {
        Self { open, ..self }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = RequireAuth<S>;

    fn layer(&self, inner: S) -> RequireAuth<S> {
        RequireAuth {
            inner,
            access: self.access.clone(),
            peer_of: self.peer_of,
            open: self.open,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RequireAuth<S> {
    inner: S,
    access: Arc<AccessControl>,
    peer_of: PeerOf,
    open: &'static [&'static str],
}

impl<S> Service<Request> for RequireAuth<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + Unpin + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Checked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if self.open.contains(&request.uri().path()) {
            return Checked::Now(self.inner.call(request));
        }
        let peer = (self.peer_of)(request.extensions());
        match self.access.decide(peer, request.headers()) {
            Decision::Allow => Checked::Now(self.inner.call(request)),
            Decision::Deny(error) => {
                let response = self.access.refuse(error);
                Checked::Later(Box::pin(async move { Ok(response) }))
            }
            Decision::Verify(token, digest) => {
                // The service that was polled ready goes into the future; a clone stays.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let access = self.access.clone();
                Checked::Later(Box::pin(async move {
                    match access.verify(&token, digest).await {
                        Ok(()) => inner.call(request).await,
                        Err(error) => Ok(access.refuse(error)),
                    }
                }))
            }
        }
    }
}

/// [`RequireAuth`]'s answer: the route's own future when the request was decided at once
/// (no allocation of its own on the common path), a boxed one when it waits for a token's
/// verification or is refused.
pub enum Checked<F> {
    Now(F),
    Later(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
}

impl<F> Future for Checked<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Now(route) => Pin::new(route).poll(cx),
            Self::Later(boxed) => boxed.as_mut().poll(cx),
        }
    }
}
