//! Problems found in an inventory, each named by file, line, column and field.
//!
//! An operator fixing an inventory wants every mistake at once and wants to jump
//! straight to it, so a [`Problem`] always carries a position and [`InventoryError`]
//! holds all of them, sorted by position, one per line when displayed.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in an inventory file.
///
/// Displayed as `file:line:column: field: message`; the column is left out where it
/// is not known, the line where the problem concerns the whole file (it cannot be
/// read), and the field where none applies (a syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as it was given to [`crate::load`] or [`crate::parse`].
    pub file: PathBuf,
    /// The line, counted from 1; 0 when the problem concerns the whole file.
    pub line: usize,
    /// The column in characters, counted from 1, where the parser gives one.
    pub column: Option<usize>,
    /// The field, as a path such as `services[2].kind` (entries counted from 0);
    /// empty for syntax errors and unreadable files.
    pub field: String,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Why an inventory could not be loaded: every problem found, in file order.
///
/// Never empty. Displayed as one [`Problem`] per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The problems, sorted by line and column.
    pub problems: Vec<Problem>,
}

impl InventoryError {
    /// A single problem concerning the whole file (it cannot be read, or its
    /// format is not known).
    pub(crate) fn whole_file(file: &Path, message: String) -> InventoryError {
        InventoryError {
            problems: vec![Problem {
                file: file.to_owned(),
                line: 0,
                column: None,
                field: String::new(),
                message,
            }],
        }
    }
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InventoryError {}

/// A position in a file: a line and, where known, a column (both from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: Option<usize>,
}

/// Collects problems for one file.
#[derive(Debug)]
pub(crate) struct Problems {
    file: PathBuf,
    list: Vec<Problem>,
}

impl Problems {
    pub(crate) fn new(file: &Path) -> Problems {
        Problems {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    /// Records a problem at `pos` in `field`.
    pub(crate) fn add(&mut self, pos: Pos, field: &str, message: impl Into<String>) {
        self.list.push(Problem {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Ok when nothing was recorded, otherwise every problem in file order.
    /// How many problems were recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, InventoryError> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            // Stable: problems at one position keep the order they were found in.
            self.list.sort_by_key(|p| (p.line, p.column));
            Err(InventoryError {
                problems: self.list,
            })
        }
    }
}

/// Maps byte offsets in a text to lines and columns.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The line and column (in characters, from 1) of byte `offset`.
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Pos {
            line,
            column: Some(column),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one_in_characters() {
        let index = LineIndex::new("ab\ncé d\n");
        assert_eq!(
            index.pos(0),
            Pos {
                line: 1,
                column: Some(1)
            }
        );
        assert_eq!(
            index.pos(3),
            Pos {
                line: 2,
                column: Some(1)
            }
        );
        // 'd' is byte 7 (é is two bytes) but character 4.
        assert_eq!(
            index.pos(7),
            Pos {
                line: 2,
                column: Some(4)
            }
        );
        assert_eq!(
            index.pos(99),
            Pos {
                line: 3,
                column: Some(1)
            }
        );
    }

    #[test]
    fn display_leaves_out_what_is_unknown() {
        let p = |line, column: Option<usize>, field: &str| Problem {
            file: PathBuf::from("inv.toml"),
            line,
            column,
            field: field.into(),
            message: "m".into(),
        };
        assert_eq!(p(3, Some(4), "f").to_string(), "inv.toml:3:4: f: m");
        assert_eq!(p(3, None, "f").to_string(), "inv.toml:3: f: m");
        assert_eq!(p(3, Some(1), "").to_string(), "inv.toml:3:1: m");
        assert_eq!(p(0, None, "").to_string(), "inv.toml: m");
        let e = InventoryError {
            problems: vec![p(1, None, "a"), p(2, None, "b")],
        };
        assert_eq!(e.to_string(), "inv.toml:1: a: m\ninv.toml:2: b: m");
    }
}
