//! Where a history lives: a SQLite file, memory, or a PostgreSQL database.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::HistoryError;

/// A parsed `--db` value. Its `Display` (used in every message) never shows a
/// password: for PostgreSQL it is the URL with the password removed.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file: a plain path or `sqlite://path`.
    Sqlite(PathBuf),
    /// A fresh SQLite database in memory (tests, benchmarks).
    Memory,
    /// A PostgreSQL database: `postgres://` or `postgresql://`. The password, if
    /// any, comes from the URL or `PGPASSWORD`.
    Postgres(PostgresUrl),
}

/// A PostgreSQL URL that keeps its password out of `Display` and `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    full: String,
    redacted: String,
}

impl PostgresUrl {
    /// The URL as given, password included: only for connecting.
    pub(crate) fn secret(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted)
    }
}

impl Location {
    /// Reads a `--db` value: `postgres://...` or `postgresql://...` selects
    /// PostgreSQL; `sqlite://path`, `sqlite::memory:` or any other text (a path)
    /// selects SQLite.
    pub fn parse(text: &str) -> Result<Location, HistoryError> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let mut url = url::Url::parse(text).map_err(|e| HistoryError::InvalidLocation {
                location: redact_unparsed(text),
                detail: e.to_string(),
            })?;
            let _ = url.set_password(None);
            return Ok(Location::Postgres(PostgresUrl {
                full: text.to_owned(),
                redacted: url.to_string(),
            }));
        }
        if text == "sqlite::memory:" || text == ":memory:" {
            return Ok(Location::Memory);
        }
        let path = text.strip_prefix("sqlite://").unwrap_or(text);
        if path.is_empty() {
            return Err(HistoryError::InvalidLocation {
                location: text.to_owned(),
                detail: "empty path".to_owned(),
            });
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// A SQLite file at `path`.
    pub fn sqlite(path: &Path) -> Location {
        Location::Sqlite(path.to_owned())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Memory => f.write_str(":memory:"),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// A URL that does not parse, with anything between `://` and the last `@` hidden.
fn redact_unparsed(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &text[..scheme], &text[at..])
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_select_the_engine_and_hide_passwords() {
        let l = Location::parse("postgres://desk:s3cret@db.example:5433/history").expect("pg");
        assert_eq!(l.to_string(), "postgres://desk@db.example:5433/history");
        assert!(!format!("{l:?}").contains("s3cret"));
        let Location::Postgres(url) = &l else {
            panic!("not postgres")
        };
        assert!(url.secret().contains("s3cret"));
        assert!(matches!(
            Location::parse("postgresql://h/db").expect("pg"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("sqlite:///var/lib/h.db").expect("sqlite"),
            Location::Sqlite("/var/lib/h.db".into())
        );
        assert_eq!(
            Location::parse("h.db").expect("path"),
            Location::Sqlite("h.db".into())
        );
        assert_eq!(
            Location::parse(":memory:").expect("memory"),
            Location::Memory
        );
        let err = Location::parse("postgres://u:s3cret@[bad/db").expect_err("bad url");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
