//! The floor's engine, pure: what the floor knows about every service, how a poll's
//! outcome changes it, the rollup in force, and the views the API, dashboard and
//! report show.
//!
//! Nothing here does I/O, spawns a task or reads the clock: the engine is driven by
//! poll [`Outcome`]s addressed to services by name, and by instants passed in. That is
//! what makes a day of polling a deterministic simulation (see `tests/`), and what
//! lets `opsfloor serve` (the shell in `opsfloor-server`) and `opsfloor report` (in
//! `opsfloor-report`) share one set of rules.
//!
//! - [`calendars`]: one calendar per venue the services name, built once per
//!   inventory;
//! - [`tracker`]: one service's calm state, poll by poll;
//! - [`state`]: the whole floor, [`FloorState`]: outcomes in, transitions out;
//! - [`transition`]: the one [`Transition`] type that history, the API, the live
//!   stream and alerts all receive;
//! - [`schedule`]: each service's stable phase in the poll interval;
//! - [`view`]: the API's JSON shapes; [`redact`]: secrets out before showing.
//!
//! ```
//! use opsfloor_engine::{FloorState, Outcome};
//! use opsfloor_contract::{Calendar, State};
//!
//! let text = "[floor]\ncalendar = \"always-open\"\n\n[[services]]\nname = \"bars-ingest\"\nkind = \"ingest\"\nurl = \"http://127.0.0.1:9104\"\n";
//! let inventory = opsfloor_inventory::parse(text, "floor.toml".as_ref(), opsfloor_inventory::Format::Toml)?;
//! let now = jiff::Timestamp::from_second(1_767_798_000)?;
//! let refused = Outcome::NoAnswer { error: "connection refused".into() };
//! let floor = FloorState::evaluate(inventory, Calendar::always_open(), [("bars-ingest".to_owned(), Some(refused))], now);
//! assert_eq!(floor.verdict.state, State::Offline);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod calendars;
pub mod outcome;
pub mod redact;
pub mod schedule;
pub mod state;
pub mod tracker;
pub mod transition;
pub mod view;

pub use calendars::Calendars;
pub use outcome::{Outcome, Polled};
pub use state::{Applied, FloorState, Target};
pub use tracker::{Deployment, Tracked};
pub use transition::{Subject, Transition};
