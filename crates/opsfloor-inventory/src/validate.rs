//! Validation, written once for both formats: positioned tree → settings and
//! services, every problem recorded (none stops the others from being found).
//!
//! The formats differ only in names, held by a [`Schema`]: TOML's `services`,
//! `name` and `url` are YAML's `agents`, `agent_name` and `service_dns`.

use std::collections::HashMap;

use opsfloor_contract::{Calendar, Criticality, ServiceKind, Sessions};

use crate::checks::{base_url, unknown_key};
use crate::error::Problems;
use crate::section::{self, Section};
use crate::tree::{Entry, Node, Value};
use crate::{FloorSettings, ServiceEntry};

/// The names one format uses.
pub(crate) struct Schema {
    services: &'static str,
    name: &'static str,
    url: &'static str,
    /// What a mapping is called in this format's messages.
    map_noun: &'static str,
    /// A URL without a scheme gets `http://` (the Python format's `service_dns`).
    assume_http: bool,
    /// Plain scalars have a type only by resolution, so a string may need quotes.
    quoting_hint: bool,
    /// Tables are opened by headers (`[floor]`), a classic way to misplace a key.
    table_headers: bool,
}

/// The native TOML format.
pub(crate) const TOML: Schema = Schema {
    services: "services",
    name: "name",
    url: "url",
    map_noun: "table",
    assume_http: false,
    quoting_hint: false,
    table_headers: true,
};

/// The Python deployments' YAML format.
pub(crate) const YAML: Schema = Schema {
    services: "agents",
    name: "agent_name",
    url: "service_dns",
    map_noun: "mapping",
    assume_http: true,
    quoting_hint: true,
    table_headers: false,
};

mod outgoing;

const FLOOR_KEYS: [&str; 11] = [
    "name",
    "calendar",
    "calendar_overrides",
    "poll_interval_ms",
    "timeout_ms",
    "max_in_flight",
    "failure_threshold",
    "body_limit_bytes",
    "ca_file",
    "client_cert",
    "client_key",
];

/// Service keys after the name, the kind and the URL (the name's and the URL's
/// keys differ by format).
const SERVICE_KEYS: [&str; 13] = [
    "calendar",
    "sessions",
    "criticality",
    "replicas",
    "enabled",
    "timeout_ms",
    "status_path",
    "failure_threshold",
    "expected_endpoints",
    "aliases",
    "bearer_token_env",
    "client_cert",
    "client_key",
];

/// The default status path of the Ops Status Contract.
const STATUS_PATH: &str = "/ops/status";

/// Validates a whole inventory tree.
pub(crate) fn inventory(
    root: &Node,
    schema: &Schema,
    problems: &mut Problems,
) -> (FloorSettings, Vec<ServiceEntry>, Sections) {
    let mut v = Validator {
        schema,
        problems,
        floor_calendar: FloorSettings::default().calendar,
    };
    let empty = Vec::new();
    let entries = match &root.value {
        Value::Map(entries) => entries,
        // An empty YAML file: report the missing services below.
        Value::Null => &empty,
        _ => {
            let found = root.describe(schema.map_noun);
            v.problems.add(
                root.pos,
                "",
                format!(
                    "expected a {} at the top level, found {found}",
                    schema.map_noun
                ),
            );
            return (FloorSettings::default(), Vec::new(), Sections::default());
        }
    };
    v.keys(
        entries,
        &[schema.services, "floor", "alerts", "maintenance"],
        &[],
        "",
    );
    let alerts = get(entries, "alerts")
        .filter(|e| e.value.value != Value::Null)
        .and_then(|e| section::keep(&e.value, "alerts", schema.map_noun, v.problems));
    let maintenance = get(entries, "maintenance")
        .filter(|e| e.value.value != Value::Null)
        .and_then(|e| section::keep_list(&e.value, "maintenance", schema.map_noun, v.problems));
    let floor = match get(entries, "floor") {
        Some(e) => v.floor(&e.value),
        None => FloorSettings::default(),
    };
    v.floor_calendar.clone_from(&floor.calendar);
    let services = match get(entries, schema.services) {
        Some(e) => v.services(&e.value),
        None => {
            v.problems
                .add(root.pos, schema.services, "missing required field");
            Vec::new()
        }
    };
    (
        floor,
        services,
        Sections {
            alerts,
            maintenance,
        },
    )
}

/// The sections kept raw for other crates.
#[derive(Default)]
pub(crate) struct Sections {
    pub alerts: Option<Section>,
    pub maintenance: Option<Section>,
}

struct Validator<'a> {
    schema: &'a Schema,
    problems: &'a mut Problems,
    /// `[floor] calendar` (canonical), the calendar of services that name none.
    floor_calendar: String,
}

/// The first entry with this key.
fn get<'t>(entries: &'t [Entry], key: &str) -> Option<&'t Entry> {
    entries.iter().find(|e| e.key == key)
}

/// The first entry with this key, unless it is null (YAML's way to leave it out).
fn optional<'t>(entries: &'t [Entry], key: &str) -> Option<&'t Node> {
    get(entries, key)
        .map(|e| &e.value)
        .filter(|n| n.value != Value::Null)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Validator<'_> {
    /// Reports unknown and duplicate keys.
    fn keys(&mut self, entries: &[Entry], allowed: &[&str], more: &[&str], prefix: &str) {
        let known = |k: &str| allowed.contains(&k) || more.contains(&k);
        for (i, entry) in entries.iter().enumerate() {
            let field = join(prefix, &entry.key);
            if !known(&entry.key) {
                let all: Vec<&str> = allowed.iter().chain(more).copied().collect();
                let mut message = unknown_key(&entry.key, &all);
                if self.schema.table_headers
                    && prefix == "floor"
                    && entry.key == self.schema.services
                {
                    message.push_str(
                        "; keys after [floor] belong to it, so put top-level keys before it",
                    );
                }
                self.problems.add(entry.key_pos, &field, message);
            } else if let Some(first) = entries[..i].iter().find(|e| e.key == entry.key) {
                self.problems.add(
                    entry.key_pos,
                    &field,
                    format!(
                        "duplicate key {:?} (first defined at line {})",
                        entry.key, first.key_pos.line
                    ),
                );
            }
        }
    }

    fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        let mut message = format!(
            "expected {expected}, found {}",
            node.describe(self.schema.map_noun)
        );
        if expected == "a string" && self.schema.quoting_hint && node.text.is_some() {
            message.push_str("; quote it to make it a string");
        }
        self.problems.add(node.pos, field, message);
    }

    fn map<'t>(&mut self, node: &'t Node, field: &str) -> Option<&'t [Entry]> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            _ => {
                let expected = format!("a {}", self.schema.map_noun);
                self.wrong_type(node, field, &expected);
                None
            }
        }
    }

    fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, field, "a string");
                None
            }
        }
    }

    fn non_empty(&mut self, node: &Node, field: &str) -> Option<String> {
        let s = self.string(node, field)?;
        if s.trim().is_empty() {
            self.problems.add(node.pos, field, "must not be empty");
            return None;
        }
        Some(s)
    }

    /// A calendar name, checked and made canonical (`nyse` → `XNYS`).
    fn calendar(&mut self, node: &Node, field: &str) -> Option<String> {
        let name = self.string(node, field)?;
        match Calendar::by_name(&name, &Default::default()) {
            Ok(calendar) => Some(calendar.name().to_owned()),
            Err(_) => {
                self.problems.add(
                    node.pos,
                    field,
                    format!(
                        "unknown calendar {name:?}; expected one of {}",
                        calendar_names()
                    ),
                );
                None
            }
        }
    }

    /// `sessions = "regular" | "extended"` on a service whose calendar is `own`:
    /// the canonical name of the calendar it is judged by (`XNYS extended`).
    fn sessions(&mut self, node: &Node, field: &str, own: &str) -> Option<String> {
        let word = self.string(node, field)?;
        let Some(hours) = Sessions::parse(&word) else {
            self.problems.add(
                node.pos,
                field,
                format!("unknown sessions {word:?}; expected \"regular\" or \"extended\""),
            );
            return None;
        };
        match Calendar::by_name_with(own, hours, &Default::default()) {
            Ok(calendar) => Some(calendar.name().to_owned()),
            Err(e) => {
                self.problems.add(node.pos, field, e.to_string());
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, field, "a boolean");
                None
            }
        }
    }

    /// An integer in `min..=max`.
    fn int(&mut self, node: &Node, field: &str, min: i128, max: i128) -> Option<i128> {
        let Value::Int(n) = node.value else {
            self.wrong_type(node, field, "an integer");
            return None;
        };
        if n < min {
            self.problems.add(
                node.pos,
                field,
                format!("must be at least {min}, found {n}"),
            );
            None
        } else if n > max {
            self.problems
                .add(node.pos, field, format!("must be at most {max}, found {n}"));
            None
        } else {
            Some(n)
        }
    }

    /// An optional positive integer that fits in `T`.
    fn positive<T: TryFrom<i128> + TryInto<i128> + Copy>(
        &mut self,
        entries: &[Entry],
        key: &str,
        prefix: &str,
        max: T,
    ) -> Option<T> {
        let node = optional(entries, key)?;
        let max = max.try_into().unwrap_or(i128::MAX);
        let n = self.int(node, &join(prefix, key), 1, max)?;
        T::try_from(n).ok()
    }

    fn floor(&mut self, node: &Node) -> FloorSettings {
        let mut floor = FloorSettings::default();
        if node.value == Value::Null {
            return floor;
        }
        let Some(entries) = self.map(node, "floor") else {
            return floor;
        };
        self.keys(entries, &FLOOR_KEYS, &[], "floor");
        if let Some(n) = optional(entries, "name") {
            floor.name = self.non_empty(n, "floor.name").unwrap_or(floor.name);
        }
        if let Some(n) = optional(entries, "calendar")
            && let Some(name) = self.calendar(n, "floor.calendar")
        {
            floor.calendar = name;
        }
        if let Some(n) = optional(entries, "calendar_overrides") {
            floor.calendar_overrides = self
                .non_empty(n, "floor.calendar_overrides")
                .map(std::path::PathBuf::from);
        }
        let d = FloorSettings::default();
        floor.poll_interval_ms = self
            .positive(entries, "poll_interval_ms", "floor", u64::MAX)
            .unwrap_or(d.poll_interval_ms);
        floor.timeout_ms = self
            .positive(entries, "timeout_ms", "floor", u64::MAX)
            .unwrap_or(d.timeout_ms);
        floor.max_in_flight = self
            .positive(entries, "max_in_flight", "floor", usize::MAX)
            .unwrap_or(d.max_in_flight);
        floor.failure_threshold = self
            .positive(entries, "failure_threshold", "floor", u32::MAX)
            .unwrap_or(d.failure_threshold);
        floor.body_limit_bytes = self
            .positive(entries, "body_limit_bytes", "floor", usize::MAX)
            .unwrap_or(d.body_limit_bytes);
        self.floor_tls(node, entries, &mut floor);
        floor
    }

    fn services(&mut self, node: &Node) -> Vec<ServiceEntry> {
        let key = self.schema.services;
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, key, "a list");
            return Vec::new();
        };
        let mut services = Vec::new();
        // Name → line of its first definition.
        let mut names: HashMap<String, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("{key}[{i}]");
            let Some(entries) = self.map(item, &prefix) else {
                continue;
            };
            let name = self.name(item, entries, &prefix, &mut names);
            let service = self.service(item, entries, &prefix);
            if let (Some(name), Some(mut service)) = (name, service) {
                service.name = name;
                services.push(service);
            }
        }
        services
    }

    /// The service's name, checked for uniqueness.
    fn name(
        &mut self,
        item: &Node,
        entries: &[Entry],
        prefix: &str,
        names: &mut HashMap<String, usize>,
    ) -> Option<String> {
        let field = join(prefix, self.schema.name);
        let node = self.required(item, entries, self.schema.name, prefix)?;
        let name = self.non_empty(node, &field)?;
        if let Some(first) = names.get(&name) {
            self.problems.add(
                node.pos,
                &field,
                format!("duplicate name {name:?} (first defined at line {first})"),
            );
            return None;
        }
        names.insert(name.clone(), node.pos.line);
        Some(name)
    }

    fn required<'t>(
        &mut self,
        item: &Node,
        entries: &'t [Entry],
        key: &str,
        prefix: &str,
    ) -> Option<&'t Node> {
        let node = get(entries, key).map(|e| &e.value);
        if node.is_none() {
            self.problems
                .add(item.pos, &join(prefix, key), "missing required field");
        }
        node
    }

    /// Everything but the name (left empty here).
    fn service(&mut self, item: &Node, entries: &[Entry], prefix: &str) -> Option<ServiceEntry> {
        let s = self.schema;
        self.keys(entries, &[s.name, "kind", s.url], &SERVICE_KEYS, prefix);
        let field = |key: &str| join(prefix, key);

        let kind = self.required(item, entries, "kind", prefix).and_then(|n| {
            let wire = self.string(n, &field("kind"))?;
            let kind = ServiceKind::from_wire(&wire);
            if kind.is_none() {
                let all: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
                self.problems.add(
                    n.pos,
                    &field("kind"),
                    format!("unknown kind {wire:?}; expected one of {}", all.join(", ")),
                );
            }
            kind
        });
        let url = self.required(item, entries, s.url, prefix).and_then(|n| {
            let raw = self.string(n, &field(s.url))?;
            base_url(&raw, s.assume_http)
                .map_err(|message| self.problems.add(n.pos, &field(s.url), message))
                .ok()
        });
        let criticality = match optional(entries, "criticality") {
            None => Some(Criticality::default()),
            Some(n) => self.string(n, &field("criticality")).and_then(|wire| {
                let c = Criticality::from_wire(&wire);
                if c.is_none() {
                    let all: Vec<&str> = Criticality::ALL.iter().map(|c| c.as_str()).collect();
                    self.problems.add(
                        n.pos,
                        &field("criticality"),
                        format!(
                            "unknown criticality {wire:?}; expected one of {}",
                            all.join(", ")
                        ),
                    );
                }
                c
            }),
        };
        let mut ok = criticality.is_some();
        let mut calendar = optional(entries, "calendar").map(|n| {
            let c = self.calendar(n, &field("calendar"));
            ok &= c.is_some();
            c
        });
        if let Some(n) = optional(entries, "sessions")
            && let Some(own) = calendar
                .clone()
                .unwrap_or(Some(self.floor_calendar.clone()))
        {
            match self.sessions(n, &field("sessions"), &own) {
                Some(name) => calendar = Some(Some(name)),
                None => ok = false,
            }
        }
        let replicas = optional(entries, "replicas").map(|n| {
            let r = self.int(n, &field("replicas"), 0, i64::MAX.into());
            ok &= r.is_some();
            r.and_then(|r| i64::try_from(r).ok())
        });
        let enabled = optional(entries, "enabled").map(|n| {
            let b = self.boolean(n, &field("enabled"));
            ok &= b.is_some();
            b
        });
        let timeout_ms = self.checked(entries, "timeout_ms", prefix, u64::MAX, &mut ok);
        let failure_threshold =
            self.checked(entries, "failure_threshold", prefix, u32::MAX, &mut ok);
        let status_path = match optional(entries, "status_path") {
            None => STATUS_PATH.to_owned(),
            Some(n) => {
                let p = self.string(n, &field("status_path")).filter(|p| {
                    let good = p.starts_with('/');
                    if !good {
                        self.problems.add(
                            n.pos,
                            &field("status_path"),
                            format!("must start with \"/\", found {p:?}"),
                        );
                    }
                    good
                });
                ok &= p.is_some();
                p.unwrap_or_default()
            }
        };
        let expected_endpoints = match optional(entries, "expected_endpoints") {
            None => Vec::new(),
            Some(n) => self.string_list(n, &field("expected_endpoints"), &mut ok),
        };
        let aliases = match optional(entries, "aliases") {
            None => Vec::new(),
            Some(n) => self.string_list(n, &field("aliases"), &mut ok),
        };
        let bearer_token_env = self.bearer_token_env(entries, prefix, &mut ok);
        let client_identity = self.client_identity(item, entries, prefix, &mut ok);
        Some(ServiceEntry {
            name: String::new(),
            bearer_token_env,
            client_identity,
            aliases,
            calendar: calendar.flatten(),
            kind: kind?,
            url: url?,
            criticality: criticality?,
            replicas: replicas.flatten(),
            enabled: enabled.flatten(),
            timeout_ms,
            status_path,
            failure_threshold,
            expected_endpoints,
            line: item.pos.line,
        })
        .filter(|_| ok)
    }

    /// An optional positive integer; clears `ok` when present but invalid.
    fn checked<T>(
        &mut self,
        entries: &[Entry],
        key: &str,
        prefix: &str,
        max: T,
        ok: &mut bool,
    ) -> Option<T>
    where
        T: TryFrom<i128> + TryInto<i128> + Copy,
    {
        let value = self.positive(entries, key, prefix, max);
        if value.is_none() && optional(entries, key).is_some() {
            *ok = false;
        }
        value
    }

    fn string_list(&mut self, node: &Node, field: &str, ok: &mut bool) -> Vec<String> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, field, "a list of strings");
            *ok = false;
            return Vec::new();
        };
        let mut list = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.string(item, &format!("{field}[{i}]")) {
                Some(s) => list.push(s),
                None => *ok = false,
            }
        }
        list
    }
}

/// The calendars an inventory may name, for error messages: `XNYS, XLON, …`.
pub(crate) fn calendar_names() -> String {
    Calendar::names()
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}
