//! The PostgreSQL engine: a server shared by replicas.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::HistoryError;
use crate::engine::sql_store;
use crate::location::PostgresUrl;

/// Connections to the server.
const CONNECTIONS: u32 = 4;

/// How long to wait for a connection (server down, pool busy).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The history in PostgreSQL. `Debug` shows only the password-free URL.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    location: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.location)
    }
}

impl PgStore {
    /// Connects to `url` (the password from the URL or `PGPASSWORD`) and migrates.
    pub async fn open(url: &PostgresUrl) -> Result<PgStore, HistoryError> {
        let location = url.to_string();
        let failed = |source| HistoryError::Database {
            location: location.clone(),
            source,
        };
        let options = PgConnectOptions::from_str(url.secret()).map_err(failed)?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(failed)?;
        let store = PgStore { pool, location };
        if let Err(e) = store.migrate().await {
            store.pool.close().await;
            return Err(e);
        }
        Ok(store)
    }
}

sql_store!(PgStore, sqlx::Postgres, true, "BEGIN");
