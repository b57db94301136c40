//! Reading the Python deployments' YAML inventory into the positioned tree.
//!
//! `saphyr-parser` turns the text into events with positions; this module builds
//! the tree from them without recursion (so no input can overflow the stack), with
//! a depth limit and a budget for alias expansion. Plain scalars are typed as
//! PyYAML types them (YAML 1.1: `yes`/`no`/`on`/`off` are booleans, `0755` is
//! octal), since these files are shared with Python services that read them so.
//! Anchors, aliases and merge keys (`<<: *defaults`) work as in PyYAML. Duplicate
//! keys are kept in the tree for validation to report with both lines.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};

use crate::error::{Pos, Problems};
use crate::tree::{Entry, Node, Value};

/// Collections nested deeper than this are refused (an inventory needs four).
const MAX_DEPTH: usize = 64;
/// How many nodes aliases may expand to in one file, against "billion laughs".
const ALIAS_BUDGET: usize = 10_000;

/// Parses `text` into a tree. Returns `None` when the text is not YAML (the
/// problem is recorded); other structural problems are recorded and the tree is
/// still returned for validation.
pub(crate) fn read(text: &str, problems: &mut Problems) -> Option<Node> {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        budget: ALIAS_BUDGET,
        root: None,
        documents: 0,
        end: end(text),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                if builder.on_event(event, span.start, problems).is_err() {
                    return None;
                }
            }
            Err(e) => {
                // The scanner may point past the end; point at the end instead.
                let at = pos(*e.marker()).min(end(text));
                problems.add(at, "", format!("invalid YAML: {}", e.info()));
                return None;
            }
        }
    }
    Some(builder.root.unwrap_or_else(|| {
        Node::new(
            Pos {
                line: 1,
                column: Some(1),
            },
            Value::Null,
        )
    }))
}

/// The position just after the last character, lines broken as YAML breaks them.
fn end(text: &str) -> Pos {
    let last = text.rsplit(['\n', '\r']).next().unwrap_or_default();
    Pos {
        line: 1 + text.matches(['\n', '\r']).count() - text.matches("\r\n").count(),
        column: Some(last.chars().count() + 1),
    }
}

fn pos(marker: Marker) -> Pos {
    Pos {
        line: marker.line().max(1),
        column: Some(marker.col() + 1),
    }
}

/// A collection being built.
struct Frame {
    pos: Pos,
    anchor: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        /// The key whose value comes next.
        key: Option<Node>,
        /// Values of merge keys (`<<`), applied at the end of the mapping.
        merges: Vec<Node>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    budget: usize,
    root: Option<Node>,
    documents: usize,
    /// The end of the text: empty values at the end may be placed past it.
    end: Pos,
}

/// A problem that stops reading (recorded before it is returned).
struct Fatal;

impl Builder {
    fn on_event(
        &mut self,
        event: Event<'_>,
        at: Marker,
        problems: &mut Problems,
    ) -> Result<(), Fatal> {
        let at = pos(at).min(self.end);
        if let Event::DocumentStart(_) = event {
            self.documents += 1;
            if self.documents == 2 {
                problems.add(
                    at,
                    "",
                    "a second YAML document; an inventory is one document",
                );
            }
        }
        if self.documents > 1 {
            return Ok(());
        }
        let is_map = matches!(event, Event::MappingStart(..));
        match event {
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
            Event::Scalar(text, style, anchor, tag) => {
                let node = scalar(&text, style, tag.as_deref(), at, problems);
                self.complete(node, anchor, problems);
                Ok(())
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    problems.add(at, "", format!("nested deeper than {MAX_DEPTH} levels"));
                    return Err(Fatal);
                }
                check_collection_tag(tag.as_deref(), is_map, at, problems);
                let kind = if is_map {
                    FrameKind::Map {
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    }
                } else {
                    FrameKind::Seq(Vec::new())
                };
                self.stack.push(Frame {
                    pos: at,
                    anchor,
                    kind,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let value = match frame.kind {
                    FrameKind::Seq(items) => Value::Seq(items),
                    FrameKind::Map {
                        mut entries,
                        merges,
                        ..
                    } => {
                        merge(&mut entries, merges, problems);
                        Value::Map(entries)
                    }
                };
                self.complete(Node::new(frame.pos, value), frame.anchor, problems);
                Ok(())
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    problems.add(at, "", "an alias to an anchor that is not complete here");
                    self.complete(Node::new(at, Value::Null), 0, problems);
                    return Ok(());
                };
                let size = target.size();
                if size > self.budget {
                    problems.add(
                        at,
                        "",
                        format!("aliases expand to more than {ALIAS_BUDGET} values"),
                    );
                    return Err(Fatal);
                }
                if self.stack.len() + target.height() > MAX_DEPTH {
                    problems.add(at, "", format!("nested deeper than {MAX_DEPTH} levels"));
                    return Err(Fatal);
                }
                self.budget -= size;
                let mut node = target.clone();
                node.pos = at;
                self.complete(node, 0, problems);
                Ok(())
            }
        }
    }

    /// Adds a finished node to the collection being built (or makes it the root).
    fn complete(&mut self, node: Node, anchor: usize, problems: &mut Problems) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root.get_or_insert(node);
            return;
        };
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map {
                entries,
                key,
                merges,
            } => match key.take() {
                None => *key = Some(node),
                Some(k) if k.text.as_deref() == Some("<<") => merges.push(node),
                Some(k) => match key_string(&k) {
                    Some(name) => entries.push(Entry {
                        key: name,
                        key_pos: k.pos,
                        value: node,
                    }),
                    None => problems.add(
                        k.pos,
                        "",
                        "a mapping key must be a plain value, not a collection",
                    ),
                },
            },
        }
    }
}

/// The key as a string: quoted keys as written, plain keys by their text.
fn key_string(key: &Node) -> Option<String> {
    match &key.value {
        Value::Str(s) => Some(s.clone()),
        Value::Seq(_) | Value::Map(_) => None,
        other => Some(key.text.clone().unwrap_or_else(|| match other {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            _ => String::new(),
        })),
    }
}

/// Applies merge keys: their entries are added unless the mapping (or an earlier
/// merge) already has the key.
fn merge(entries: &mut Vec<Entry>, merges: Vec<Node>, problems: &mut Problems) {
    for source in merges {
        let maps = match source.value {
            Value::Map(m) => vec![m],
            Value::Seq(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item.value {
                        Value::Map(m) => maps.push(m),
                        _ => problems.add(item.pos, "", "a merge key (<<) takes mappings"),
                    }
                }
                maps
            }
            _ => {
                problems.add(
                    source.pos,
                    "",
                    "a merge key (<<) takes a mapping or a list of mappings",
                );
                continue;
            }
        };
        for map in maps {
            for entry in map {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
}

fn is_core(tag: &Tag) -> bool {
    tag.is_yaml_core_schema()
}

fn check_collection_tag(tag: Option<&Tag>, is_map: bool, at: Pos, problems: &mut Problems) {
    if let Some(tag) = tag {
        let fits = is_core(tag)
            && if is_map {
                matches!(tag.suffix.as_str(), "map" | "omap")
            } else {
                matches!(tag.suffix.as_str(), "seq" | "set")
            };
        if !fits {
            problems.add(at, "", format!("unsupported YAML tag \"{tag}\""));
        }
    }
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    at: Pos,
    problems: &mut Problems,
) -> Node {
    let quoted = style != ScalarStyle::Plain;
    let forced_string = match tag {
        None => false,
        Some(t) if is_core(t) && t.suffix == "str" => true,
        Some(t) if is_core(t) && matches!(t.suffix.as_str(), "int" | "float" | "bool" | "null") => {
            false
        }
        Some(t) => {
            problems.add(at, "", format!("unsupported YAML tag \"{t}\""));
            false
        }
    };
    if quoted || forced_string {
        return Node::new(at, Value::Str(text.to_owned()));
    }
    Node {
        pos: at,
        value: resolve_plain(text),
        text: Some(text.to_owned()),
    }
}

/// Types a plain scalar the way PyYAML's resolver does.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Value::Int(n);
    }
    if let Some(x) = float(text) {
        return Value::Float(x);
    }
    Value::Str(text.to_owned())
}

fn integer(text: &str) -> Option<i128> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(&digits, radix).ok()?;
    Some(if negative { -n } else { n })
}

fn float(text: &str) -> Option<f64> {
    match text.trim_start_matches(['+', '-']) {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // As PyYAML: a float has a decimal point (`1e3` is a string).
    let plain = text.replace('_', "");
    let numeric = plain
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if numeric && plain.contains('.') && plain.chars().any(|c| c.is_ascii_digit()) {
        plain.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_are_typed_as_pyyaml_types_them() {
        assert_eq!(resolve_plain("yes"), Value::Bool(true));
        assert_eq!(resolve_plain("Off"), Value::Bool(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("1_500"), Value::Int(1500));
        assert_eq!(resolve_plain("-3"), Value::Int(-3));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("010"), Value::Int(8));
        assert_eq!(resolve_plain("0"), Value::Int(0));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("nan"), Value::Str("nan".into()));
        assert_eq!(resolve_plain("09"), Value::Str("09".into()));
        assert_eq!(resolve_plain("1e3"), Value::Str("1e3".into()));
        assert_eq!(resolve_plain("-"), Value::Str("-".into()));
        assert_eq!(resolve_plain("risk"), Value::Str("risk".into()));
    }
}
