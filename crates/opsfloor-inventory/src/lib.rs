//! The floor's inventory: the list of services on a trading floor, read by the
//! floor aggregator (`opsfloor serve`) and the report (`opsfloor report`).
//!
//! Two formats, one meaning:
//! - the native TOML (`.toml`): an optional `[floor]` table of settings and one
//!   `[[services]]` table per service (`opsfloor fleet --write-inventory` writes it);
//! - the YAML inventory Python deployments already have (`.yaml`, `.yml`), read
//!   unchanged: `agents:` entries with `agent_name` and `service_dns`, and an
//!   optional `floor:` mapping.
//!
//! Parsing is pure ([`parse`] never touches the disk; [`load`] reads a file and
//! parses it). An inventory is either wholly valid or an [`InventoryError`] listing
//! every problem found, each naming the file, line, column and field, such as
//! `inventory.toml:12:8: services[2].kind: unknown kind "risk"; expected one of …`.
//! A typo in a key is an error, never silently ignored.
//!
//! ```
//! use std::path::Path;
//! use opsfloor_inventory::{Format, parse};
//!
//! let path = Path::new("inventory.toml");
//! let text = "[[services]]\nname = \"gamma-strategy\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:9101\"\n";
//! let inventory = parse(text, path, Format::Toml)?;
//! assert_eq!(inventory.services[0].status_url(), "http://127.0.0.1:9101/ops/status");
//!
//! let typo = text.replace("kind", "knid");
//! let error = parse(&typo, path, Format::Toml).expect_err("a typo");
//! assert_eq!(
//!     error.to_string(),
//!     "inventory.toml:1:1: services[0].kind: missing required field\n\
//!      inventory.toml:3:1: services[0].knid: unknown key \"knid\"; did you mean \"kind\"?"
//! );
//! # Ok::<(), opsfloor_inventory::InventoryError>(())
//! ```

mod checks;
mod error;
mod section;
mod toml_format;
mod tree;
mod validate;
mod yaml_format;

use std::path::{Path, PathBuf};

use opsfloor_contract::{Criticality, ServiceKind};

pub use error::{InventoryError, Problem};
pub use section::Section;

use error::{LineIndex, Problems};

/// A validated inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The file it was read from (as given), so that later messages can name it.
    pub source: PathBuf,
    /// The file's format.
    pub format: Format,
    /// Floor-wide settings (defaults where the file leaves them out).
    pub floor: FloorSettings,
    /// The services, in the file's order; names are unique.
    pub services: Vec<ServiceEntry>,
    /// The `[alerts]` table (YAML: `alerts:`), kept raw for `opsfloor-alerts`;
    /// `None` when the file has none, which means no alerting.
    pub alerts: Option<Section>,
    /// The `[[maintenance]]` windows (YAML: a `maintenance:` list), kept raw for
    /// `opsfloor-alerts`; `None` when the file has none.
    pub maintenance: Option<Section>,
}

impl Inventory {
    /// Things that are valid but probably wrong, one line each naming the file and
    /// line: today, two entries polling the same status URL (a copy-paste), which
    /// the identity check will then show as `UNKNOWN [IDENTITY_MISMATCH]`.
    pub fn warnings(&self) -> Vec<String> {
        let mut first: std::collections::HashMap<String, &ServiceEntry> =
            std::collections::HashMap::new();
        let mut out = Vec::new();
        for e in &self.services {
            let url = e.status_url();
            match first.get(&url) {
                Some(earlier) => out.push(format!(
                    "{}:{}: services {:?} and {:?} (line {}) poll the same URL {url}",
                    self.source.display(),
                    e.line,
                    e.name,
                    earlier.name,
                    earlier.line
                )),
                None => {
                    first.insert(url, e);
                }
            }
        }
        out
    }
}

/// An inventory file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The native TOML format (`.toml`).
    Toml,
    /// The Python deployments' YAML format (`.yaml`, `.yml`).
    Yaml,
}

impl Format {
    /// The format a file's extension names (case-insensitive); `None` for any other.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Floor-wide settings: the calendar and how the floor polls its services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorSettings {
    /// The floor's name, shown on the dashboard and in reports.
    pub name: String,
    /// The market calendar's canonical name (`XNYS`, `XTKS`, `always-open`, ...),
    /// known to `opsfloor_contract::Calendar::by_name`: the calendar of every
    /// service that names none.
    pub calendar: String,
    /// The operators' overrides file (`calendar_overrides`), resolved against the
    /// inventory file's directory; one file for every venue
    /// (`opsfloor_contract::calendar::VenueOverrides`).
    pub calendar_overrides: Option<PathBuf>,
    /// How often every service is polled, in milliseconds.
    pub poll_interval_ms: u64,
    /// Per-request timeout, in milliseconds, unless a service overrides it.
    pub timeout_ms: u64,
    /// At most this many requests in flight at once.
    pub max_in_flight: usize,
    /// Consecutive failed polls before a service counts as unreachable, unless a
    /// service overrides it.
    pub failure_threshold: u32,
    /// Status bodies larger than this many bytes are refused.
    pub body_limit_bytes: usize,
    /// A PEM file of CA certificates trusted for `https://` services in addition
    /// to the system's roots (`ca_file`), resolved against the inventory's directory.
    pub ca_file: Option<PathBuf>,
    /// The client certificate presented to every `https://` service that names
    /// none of its own (`client_cert`, `client_key`), for mutual TLS.
    pub client_identity: Option<ClientIdentity>,
}

/// A client certificate and its private key, both PEM files resolved against the
/// inventory's directory: what the floor presents to a service that asks for
/// mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientIdentity {
    /// The certificate chain (`client_cert`), leaf first.
    pub cert: PathBuf,
    /// The private key (`client_key`): PKCS#8, PKCS#1 or SEC1.
    pub key: PathBuf,
}

impl Default for FloorSettings {
    fn default() -> Self {
        FloorSettings {
            name: "trading-floor".to_owned(),
            calendar: "XNYS".to_owned(),
            calendar_overrides: None,
            poll_interval_ms: 5000,
            timeout_ms: 1500,
            max_in_flight: 64,
            failure_threshold: 3,
            body_limit_bytes: 65536,
            ca_file: None,
            client_identity: None,
        }
    }
}

/// One service of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service's name, unique in the inventory (`agent_name` in YAML).
    pub name: String,
    /// Other names its status document may carry as `service_name` (a service
    /// renamed in its own configuration but not yet here); any other name is an
    /// identity mismatch.
    pub aliases: Vec<String>,
    /// Its market calendar's canonical name, when it names one (`calendar`);
    /// otherwise the floor's ([`ServiceEntry::calendar_name`]).
    pub calendar: Option<String>,
    /// What the service does.
    pub kind: ServiceKind,
    /// Its base URL, normalised (`http` or `https`, lower-case scheme and host, no
    /// default port, no trailing slash); `service_dns` in YAML.
    pub url: String,
    /// How much the floor depends on it (default `important`).
    pub criticality: Criticality,
    /// Replicas the deployment asks for, where known; 0 means scaled to zero.
    pub replicas: Option<i64>,
    /// Whether the deployment enables it, where known.
    pub enabled: Option<bool>,
    /// Per-request timeout in milliseconds, overriding the floor's.
    pub timeout_ms: Option<u64>,
    /// The path of its status document, starting with `/` (default `/ops/status`).
    pub status_path: String,
    /// Failed polls before it counts as unreachable, overriding the floor's.
    pub failure_threshold: Option<u32>,
    /// Endpoints it is expected to serve, as listed (for reports).
    pub expected_endpoints: Vec<String>,
    /// The environment variable holding the bearer token sent to it
    /// (`bearer_token_env`): a parent floor polling a child floor, say. Only the
    /// variable's name is in the inventory; the token itself is never kept here.
    pub bearer_token_env: Option<String>,
    /// Its own client certificate for mutual TLS, instead of the floor's.
    pub client_identity: Option<ClientIdentity>,
    /// The line where the entry starts in its file, for messages about it.
    pub line: usize,
}

impl ServiceEntry {
    /// The URL of its status document: the base URL followed by the status path.
    pub fn status_url(&self) -> String {
        format!("{}{}", self.url, self.status_path)
    }

    /// Whether it should be running: false when scaled to zero (`replicas = 0`) or
    /// disabled (`enabled = false`), so that its silence is expected, not an alarm.
    pub fn expected_to_run(&self) -> bool {
        self.replicas != Some(0) && self.enabled != Some(false)
    }

    /// Its calendar's canonical name: its own, or else the floor's.
    pub fn calendar_name<'a>(&'a self, floor: &'a FloorSettings) -> &'a str {
        self.calendar.as_deref().unwrap_or(&floor.calendar)
    }

    /// Its per-request timeout: its own, or else the floor's.
    pub fn timeout_ms(&self, floor: &FloorSettings) -> u64 {
        self.timeout_ms.unwrap_or(floor.timeout_ms)
    }

    /// The client certificate it is polled with: its own, or else the floor's.
    pub fn client_identity<'a>(&'a self, floor: &'a FloorSettings) -> Option<&'a ClientIdentity> {
        self.client_identity
            .as_ref()
            .or(floor.client_identity.as_ref())
    }

    /// Its failure threshold: its own, or else the floor's.
    pub fn failure_threshold(&self, floor: &FloorSettings) -> u32 {
        self.failure_threshold.unwrap_or(floor.failure_threshold)
    }
}

/// Reads and parses an inventory file, its format chosen by its extension.
///
/// # Errors
/// An [`InventoryError`] naming the file when it cannot be read, is not UTF-8 (with
/// the position of the first bad byte), has an unknown extension, or is not a
/// valid inventory (see [`parse`]).
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let Some(format) = Format::from_path(path) else {
        return Err(InventoryError::whole_file(
            path,
            "unknown inventory format; expected a .toml, .yaml or .yml file".to_owned(),
        ));
    };
    let bytes = std::fs::read(path)
        .map_err(|e| InventoryError::whole_file(path, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let at = LineIndex::new(prefix).pos(prefix.len());
        InventoryError {
            problems: vec![Problem {
                file: path.to_owned(),
                line: at.line,
                column: at.column,
                field: String::new(),
                message: "not valid UTF-8".to_owned(),
            }],
        }
    })?;
    parse(&text, path, format)
}

/// Parses and validates an inventory from `text`; `path` is only used to name the
/// file in the result and in messages.
///
/// # Errors
/// An [`InventoryError`] with every problem found: syntax errors, or else every
/// unknown or duplicate key, missing field, value of the wrong type, unknown kind,
/// criticality or calendar, bad URL, out-of-range number and duplicate name.
pub fn parse(text: &str, path: &Path, format: Format) -> Result<Inventory, InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Problems::new(path);
    let (tree, schema) = match format {
        Format::Toml => (toml_format::read(text, &mut problems), &validate::TOML),
        Format::Yaml => (yaml_format::read(text, &mut problems), &validate::YAML),
    };
    let Some(tree) = tree else {
        return problems.finish(()).and_then(|()| {
            Err(InventoryError::whole_file(
                path,
                "cannot be read".to_owned(),
            ))
        });
    };
    let (mut floor, services, sections) = validate::inventory(&tree, schema, &mut problems);
    // Files are named relative to the inventory, wherever it is read from.
    let relative = |p: PathBuf| path.parent().map_or(p.clone(), |dir| dir.join(&p));
    floor.calendar_overrides = floor.calendar_overrides.map(relative);
    floor.ca_file = floor.ca_file.map(relative);
    let identity = |i: ClientIdentity| ClientIdentity {
        cert: relative(i.cert),
        key: relative(i.key),
    };
    floor.client_identity = floor.client_identity.map(identity);
    let services = services
        .into_iter()
        .map(|mut s| {
            s.client_identity = s.client_identity.map(identity);
            s
        })
        .collect();
    problems.finish(Inventory {
        source: path.to_owned(),
        format,
        floor,
        services,
        alerts: sections.alerts,
        maintenance: sections.maintenance,
    })
}
