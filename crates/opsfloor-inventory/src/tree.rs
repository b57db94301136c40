//! The positioned value tree both formats are read into.
//!
//! TOML and YAML are first turned into this one small tree, every node and key
//! carrying its line and column, so that validation (`validate.rs`) is written once
//! and reports the same problems with the same words for both formats.

use crate::error::Pos;

/// A value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
    /// The source text of a YAML plain scalar, shown in messages (`no`, not `false`).
    pub text: Option<String>,
}

/// A value of either format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A TOML date or time, as written.
    Datetime(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping or table, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub(crate) fn new(pos: Pos, value: Value) -> Node {
        Node {
            pos,
            value,
            text: None,
        }
    }

    /// The height of the tree under this node (a scalar is 1).
    pub(crate) fn height(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::height).max().unwrap_or(0),
            Value::Map(entries) => entries.iter().map(|e| e.value.height()).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The number of nodes in the tree under this node, itself included.
    pub(crate) fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
            _ => 0,
        }
    }

    /// Describes the value for a "found ..." message: its type and, for scalars,
    /// the value itself. `map_noun` is "table" (TOML) or "mapping" (YAML).
    pub(crate) fn describe(&self, map_noun: &str) -> String {
        let shown = |v: String| self.text.clone().unwrap_or(v);
        match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("a boolean ({})", shown(b.to_string())),
            Value::Int(i) => format!("an integer ({})", shown(i.to_string())),
            Value::Float(x) => format!("a float ({})", shown(format!("{x:?}"))),
            Value::Str(s) => format!("a string ({s:?})"),
            Value::Datetime(d) => format!("a date-time ({d})"),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => format!("a {map_noun}"),
        }
    }
}
