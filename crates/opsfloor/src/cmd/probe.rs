//! `opsfloor probe`: a long-running sidecar that serves `/ops/status` for a
//! service configured from the environment, typically a cron-style job that
//! touches `OPS_HEARTBEAT_FILE` after each successful run.

use std::net::SocketAddr;

use opsfloor_probe::{Probe, ProbeConfig};

use crate::cmd::serve_util::{clock, init_logging, runtime, shutdown_signal};
use crate::error::CliError;

/// Arguments of `opsfloor probe`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Configured by the probe's environment variables (SERVICE_NAME, SERVICE_KIND, REPO_ID, \
OPS_HEARTBEAT_FILE, OPS_HEARTBEAT_TTL_S, EXECUTION_HALTED_FILE, ...; see the README).\n\
Example, for an ingest job run by cron every 5 minutes:\n  \
SERVICE_NAME=bars-ingest SERVICE_KIND=ingest REPO_ID=acme/ingest OPS_HEARTBEAT_FILE=/run/bars-ingest.ok \
OPS_HEARTBEAT_TTL_S=420 opsfloor probe --listen 0.0.0.0:9104\n  \
crontab: */5 * * * * run-bars-ingest && touch /run/bars-ingest.ok"
)]
pub struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Simulate the clock from this instant (RFC 3339), advancing in real time.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

/// Serves until Ctrl-C or SIGTERM.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let config =
        ProbeConfig::from_env().map_err(|e| CliError::Usage(format!("environment: {e}")))?;
    let probe = Probe::with_clock(config, clock(args.now.as_deref())?);
    init_logging();
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| CliError::Io {
                path: format!("listen {}", args.listen).into(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| CliError::Io {
            path: "listener".into(),
            source,
        })?;
        println!(
            "opsfloor probe: serving {} at http://{addr}/ops/status",
            probe.config().identity.service_name
        );
        axum::serve(listener, probe.router())
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|source| CliError::Io {
                path: "serve".into(),
                source,
            })?;
        Ok(0)
    })
}
