//! Sections the inventory carries for other crates without reading them itself.
//!
//! `[alerts]` belongs to `opsfloor-alerts`, which knows its fields; the inventory
//! only checks that it is a table (mapping), keeps where it starts, and hands it on
//! as TOML text. Both formats end up as the same text, so one parser (the alerts
//! crate's) reads a TOML `[alerts]` table and a YAML `alerts:` mapping alike.

use crate::error::Problems;
use crate::tree::{Node, Value};

/// A top-level section kept raw for another crate to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The line where the section starts in the inventory file (1-based), for messages.
    pub line: usize,
    /// The section as TOML text, whatever the inventory's format: for a table
    /// (`[alerts]`) its contents, its keys at the top level; for a list of tables
    /// (`[[maintenance]]`) a whole document holding just that key. YAML nulls are left out, as YAML
    /// means by them "not given".
    pub toml: String,
}

/// Keeps `node` (the value of top-level key `key`) as a [`Section`]; a value that is
/// not a table, or holds what TOML cannot say, is a problem named by its field.
pub(crate) fn keep(
    node: &Node,
    key: &str,
    map_noun: &str,
    problems: &mut Problems,
) -> Option<Section> {
    if !matches!(node.value, Value::Map(_)) {
        let found = node.describe(map_noun);
        problems.add(
            node.pos,
            key,
            format!("expected a {map_noun}, found {found}"),
        );
        return None;
    }
    let before = problems.len();
    let value = to_toml(node, key, problems)?;
    if problems.len() > before {
        return None;
    }
    let toml::Value::Table(table) = value else {
        return None;
    };
    Some(Section {
        line: node.pos.line,
        toml: table.to_string(),
    })
}

/// Keeps `node` (the value of top-level key `key`, a list of tables such as
/// `[[maintenance]]`) as a [`Section`] whose text is a whole document `key = [...]`.
pub(crate) fn keep_list(
    node: &Node,
    key: &str,
    map_noun: &str,
    problems: &mut Problems,
) -> Option<Section> {
    if !matches!(node.value, Value::Seq(_)) {
        let found = node.describe(map_noun);
        problems.add(
            node.pos,
            key,
            format!("expected a list of {map_noun}s, found {found}"),
        );
        return None;
    }
    let before = problems.len();
    let value = to_toml(node, key, problems)?;
    if problems.len() > before {
        return None;
    }
    let mut document = toml::Table::new();
    document.insert(key.to_owned(), value);
    Some(Section {
        line: node.pos.line,
        toml: document.to_string(),
    })
}

/// The tree as a TOML value; `None` for a YAML null (left out of its table).
fn to_toml(node: &Node, field: &str, problems: &mut Problems) -> Option<toml::Value> {
    Some(match &node.value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Int(i) => match i64::try_from(*i) {
            Ok(i) => toml::Value::Integer(i),
            Err(_) => {
                problems.add(node.pos, field, format!("{i} is out of range"));
                return None;
            }
        },
        Value::Float(x) => toml::Value::Float(*x),
        // Dates are read by the section's owner, as RFC 3339 text.
        Value::Str(s) | Value::Datetime(s) => toml::Value::String(s.clone()),
        Value::Seq(items) => toml::Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, n)| to_toml(n, &format!("{field}[{i}]"), problems))
                .collect(),
        ),
        Value::Map(entries) => toml::Value::Table(
            entries
                .iter()
                .filter_map(|e| {
                    let value = to_toml(&e.value, &format!("{field}.{}", e.key), problems)?;
                    Some((e.key.clone(), value))
                })
                .collect(),
        ),
    })
}
