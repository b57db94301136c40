//! One simulated service: a probe and the HTTP server that serves it, which can be
//! stopped (its port refuses connections) and started again on the same port.

use std::net::SocketAddr;

use opsfloor_contract::{Calendar, Criticality, ServiceKind};
use opsfloor_probe::Probe;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::FleetError;
use crate::roster::Spec;

/// A simulated service.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) name: &'static str,
    pub(crate) kind: ServiceKind,
    pub(crate) criticality: Criticality,
    /// Its own calendar's name for the inventory; `None` follows the floor's.
    pub(crate) calendar: Option<&'static str>,
    pub(crate) probe: Probe,
    /// The address it serves on; fixed after the first bind so restarts reuse it.
    pub(crate) addr: SocketAddr,
    server: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Member {
    /// Binds the member's address (port 0 picks a free port once) without serving yet.
    pub(crate) async fn bind(
        spec: &Spec,
        probe: Probe,
        addr: SocketAddr,
    ) -> Result<(Member, TcpListener), FleetError> {
        let name = spec.name;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| FleetError::Bind { name, addr, source })?;
        let addr =
            listener
                .local_addr()
                .map_err(|source| FleetError::Bind { name, addr, source })?;
        Ok((
            Member {
                name,
                kind: spec.kind,
                criticality: spec.criticality,
                calendar: spec.calendar.as_ref().map(Calendar::name),
                probe,
                addr,
                server: None,
            },
            listener,
        ))
    }

    pub(crate) fn is_serving(&self) -> bool {
        self.server.is_some()
    }

    /// Serves on an already-bound listener.
    pub(crate) fn serve_on(&mut self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        let router = self.probe.router();
        let name = self.name;
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(service = name, error = %e, "server failed");
            }
        });
        self.server = Some((stop, task));
    }

    /// Starts serving again on the member's address.
    pub(crate) async fn start(&mut self) -> Result<(), FleetError> {
        if self.is_serving() {
            return Ok(());
        }
        let name = self.name;
        let addr = self.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| FleetError::Bind { name, addr, source })?;
        self.serve_on(listener);
        tracing::info!(service = name, %addr, "started");
        Ok(())
    }

    /// Stops serving: the listener closes, so new connections are refused.
    pub(crate) async fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            let _ = stop.send(());
            let _ = task.await;
            tracing::info!(service = self.name, addr = %self.addr, "stopped");
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
