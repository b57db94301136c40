//! Reading the native TOML inventory into the positioned tree.
//!
//! The `toml` crate's `DeTable` keeps the byte span of every key and value; spans
//! become lines and columns here. Syntax errors (duplicate keys included) are all
//! reported, with best-effort recovery; a file with syntax errors is not validated
//! further, as its tree may be incomplete.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{LineIndex, Problems};
use crate::tree::{Entry, Node, Value};

/// Parses `text` into a tree, or records its syntax errors and returns `None`.
pub(crate) fn read(text: &str, problems: &mut Problems) -> Option<Node> {
    let index = LineIndex::new(text);
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let mut seen = Vec::new();
        for error in errors {
            let span = error.span().unwrap_or_default();
            let pos = index.pos(span.start);
            let mut message = format!("invalid TOML: {}", error.message().trim_end());
            // Name the key: the parser's message does not.
            if message.ends_with("duplicate key")
                && let Some(key) = text.get(span).filter(|k| !k.is_empty() && k.len() < 100)
            {
                message.push_str(&format!(" {:?}", key.trim()));
            }
            if !seen.contains(&(pos, message.clone())) {
                problems.add(pos, "", message.clone());
                seen.push((pos, message));
            }
        }
        return None;
    }
    let span = table.span();
    Some(Node::new(
        index.pos(span.start),
        table_value(table.get_ref(), &index),
    ))
}

fn table_value(table: &DeTable<'_>, index: &LineIndex<'_>) -> Value {
    let mut entries: Vec<(usize, Entry)> = table
        .iter()
        .map(|(key, value)| {
            (
                key.span().start,
                Entry {
                    key: key.get_ref().to_string(),
                    key_pos: index.pos(key.span().start),
                    value: node(value, index),
                },
            )
        })
        .collect();
    // The table is sorted by key; restore the file's order.
    entries.sort_by_key(|(start, _)| *start);
    Value::Map(entries.into_iter().map(|(_, e)| e).collect())
}

fn node(value: &Spanned<DeValue<'_>>, index: &LineIndex<'_>) -> Node {
    let pos = index.pos(value.span().start);
    let value = match value.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => {
            match i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Str(i.as_str().to_owned()),
            }
        }
        DeValue::Float(x) => Value::Float(x.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Seq(items.iter().map(|v| node(v, index)).collect()),
        DeValue::Table(table) => table_value(table, index),
    };
    Node::new(pos, value)
}
