//! The status document every service serves at `GET /ops/status`.
//!
//! Field names, nesting and nullability follow the seed's example exactly. Fields
//! the seed shows as `null` are `Option`s; extra fields a newer service adds are
//! ignored on input (forward compatibility). Whether a *received* document carries
//! everything the contract requires is decided by [`crate::check`], not by these
//! types alone.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kind::{ServiceKind, State};
use crate::reason::ReasonCode;
use crate::time::{Seconds, UtcTimestamp};

/// The whole `/ops/status` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Ops Status Contract document")]
pub struct Document {
    /// The service's unique name on the floor.
    #[schemars(length(min = 1))]
    pub service_name: String,
    /// What the service does.
    pub service_kind: ServiceKind,
    /// The source repository, e.g. `RichKingsASU/agent-trader-v2`.
    #[schemars(length(min = 1))]
    pub repo_id: String,
    /// The commit the running build came from.
    #[serde(default)]
    pub git_sha: Option<String>,
    /// The CI build that produced the running artefact.
    #[serde(default)]
    pub build_id: Option<String>,
    /// Who the service is as an agent.
    #[serde(deserialize_with = "map_only::required")]
    pub agent_identity: AgentIdentity,
    /// The state and why.
    #[serde(deserialize_with = "map_only::required")]
    pub status: Status,
    /// Liveness as the service itself sees it.
    #[serde(deserialize_with = "map_only::required")]
    pub heartbeat: Heartbeat,
    /// Market data freshness; `null` for kinds that do not consume market data.
    #[serde(default, deserialize_with = "map_only::optional")]
    pub marketdata: Option<Marketdata>,
    /// The safety gates.
    #[serde(deserialize_with = "map_only::required")]
    pub safety: Safety,
    /// Where the service's other endpoints live.
    #[serde(default, deserialize_with = "map_only::optional")]
    pub endpoints: Option<Endpoints>,
    /// An optional extension: which calendar the service judged "market open" by
    /// and what it found. Documents without it stay valid; omitted when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "map_only::optional"
    )]
    pub market: Option<Market>,
}

/// `market` (an extension): the calendar behind the document's market-hours
/// decisions, so a reader can tell a Tokyo service's closed market from an
/// NYSE one's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Market {
    /// The calendar's canonical name (`XNYS`, `XTKS`, `XNYS extended`, `always-open`).
    #[schemars(length(min = 1))]
    pub calendar: String,
    /// The market was open when the document was built.
    pub is_open: bool,
    /// The next open after that instant; `null` for a 24/7 calendar.
    #[serde(default)]
    pub next_open_utc: Option<UtcTimestamp>,
    /// The next close after that instant; `null` for a 24/7 calendar.
    #[serde(default)]
    pub next_close_utc: Option<UtcTimestamp>,
}

/// `agent_identity`: the agent's name, role and mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AgentIdentity {
    /// The agent's name (required, non-empty).
    #[schemars(length(min = 1))]
    pub agent_name: String,
    /// The agent's role, e.g. `marketdata`.
    #[serde(default)]
    pub agent_role: Option<String>,
    /// The agent's mode, e.g. `STREAM`.
    #[serde(default)]
    pub agent_mode: Option<String>,
}

/// `status`: the state, a summary, the reason codes and when they were decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Status {
    /// One of the six states.
    pub state: State,
    /// A human summary of the state, e.g. `Healthy`.
    #[serde(default)]
    pub summary: String,
    /// Why; empty for `OK`, exactly one code for every other state this contract writes.
    #[serde(default)]
    pub reason_codes: Vec<ReasonCode>,
    /// When the state was computed.
    #[serde(default)]
    pub last_updated_utc: Option<UtcTimestamp>,
}

/// `heartbeat`: the last sign of life and how old it may get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Heartbeat {
    /// The last heartbeat the service recorded.
    #[serde(default)]
    pub last_heartbeat_utc: Option<UtcTimestamp>,
    /// Seconds since that heartbeat when the document was built (never negative).
    #[serde(default)]
    pub age_seconds: Option<f64>,
    /// How old the heartbeat may get before the service is stale.
    #[serde(default)]
    pub ttl_seconds: Option<Seconds>,
}

/// `marketdata`: how fresh the market data this service consumes is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Marketdata {
    /// The last tick seen.
    #[serde(default)]
    pub last_tick_utc: Option<UtcTimestamp>,
    /// The last bar seen.
    #[serde(default)]
    pub last_bar_utc: Option<UtcTimestamp>,
    /// A tick older than this is stale.
    #[serde(default)]
    pub stale_threshold_seconds: Option<Seconds>,
    /// `age ≤ threshold`; `null` when no tick was ever seen.
    #[serde(default)]
    pub is_fresh: Option<bool>,
}

/// `safety`: the kill switch and the gates derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Safety {
    /// The kill switch is engaged.
    pub kill_switch: bool,
    /// Strategies may run.
    #[serde(default)]
    pub safe_to_run_strategies: bool,
    /// Orders may be executed (only an execution service in state OK whose policy allows it).
    #[serde(default)]
    pub safe_to_execute_orders: bool,
    /// Why gates are closed, in the fixed reason-code order.
    #[serde(default)]
    pub gating_reasons: Vec<ReasonCode>,
}

/// `endpoints`: paths of the service's other endpoints, `null` when it has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Endpoints {
    /// Liveness endpoint, e.g. `/health`.
    #[serde(default)]
    pub healthz: Option<String>,
    /// A separate heartbeat endpoint, if any.
    #[serde(default)]
    pub heartbeat: Option<String>,
    /// Prometheus metrics endpoint, if any.
    #[serde(default)]
    pub metrics: Option<String>,
}

impl Document {
    /// Serialises the document as compact JSON bytes (the wire form).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serialising these types cannot fail: every map key is a string and no
        // Serialize impl here returns an error. The fallback is unreachable.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The moment the document's state was decided, if it says.
    pub fn last_updated(&self) -> Option<Timestamp> {
        self.status.last_updated_utc.map(|t| t.0)
    }
}

/// Deserialising nested objects from JSON objects only.
///
/// serde's derived `Deserialize` for a struct also accepts a JSON *array* of its
/// fields in order (`"agent_identity": ["x"]`). The contract's objects are objects:
/// these helpers ask the deserializer for a map and nothing else, so the fast typed
/// path rejects exactly what the field table in [`crate::check`] rejects.
pub(crate) mod map_only {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::value::MapAccessDeserializer;
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

    struct MapVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }

    /// A required object.
    pub(crate) fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        d.deserialize_map(MapVisitor(PhantomData))
    }

    struct OptionVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for OptionVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }

        fn visit_none<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            required(d).map(Some)
        }
    }

    /// An object or `null`.
    pub(crate) fn optional<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        d.deserialize_option(OptionVisitor(PhantomData))
    }
}
