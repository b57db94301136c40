//! `opsfloor`: one binary for the Ops Status Contract.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only parses the
//! command line and turns outcomes into exit codes.

mod cmd;
mod error;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// opsfloor: calm, deterministic operational states for a trading floor.
#[derive(Debug, Parser)]
#[command(name = "opsfloor", version, about, long_about = None)]
#[command(after_help = error::exit_codes_help())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the truth table to JSON Lines of inputs read from stdin.
    Evaluate(cmd::evaluate::Args),
    /// Check status documents against the contract.
    Validate(cmd::validate::Args),
    /// Print the JSON Schema (draft 2020-12) of the status document (or of the JSON report).
    Schema {
        /// The schema of `opsfloor report --format json` instead.
        #[arg(long)]
        report: bool,
    },
    /// Market calendar queries.
    #[command(subcommand)]
    Calendar(cmd::calendar::Command),
    /// Run a simulated trading floor on loopback.
    Fleet(cmd::fleet::Args),
    /// Serve /ops/status for a service configured from the environment (a sidecar for cron jobs).
    Probe(cmd::probe::Args),
    /// The demo: a simulated fleet and its floor together; prints the dashboard's URL.
    Demo(cmd::demo::Args),
    /// The deployment report and go/no-go gate: poll once, apply the floor's rules, exit by state.
    Report(cmd::report::Args),
    /// Run the Trading Floor aggregator: poll the inventory, serve the API, keep history.
    Serve(cmd::serve::Args),
    /// The history store: migrate, export (JSON Lines), import.
    #[command(subcommand)]
    History(cmd::history::Command),
    /// Print Prometheus alerting and recording rules for the floor's /metrics (YAML).
    Rules(cmd::generate::RulesArgs),
    /// Print a Grafana dashboard for the floor's /metrics (JSON).
    Grafana(cmd::generate::GrafanaArgs),
    /// Credentials for `[access]`: `token new` (a bearer token and its SHA-256), `token basic` (an argon2 password hash).
    #[command(subcommand)]
    Token(cmd::token::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; every other parse failure is a
            // usage error, said with the same "opsfloor: error: " as every other error.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::from(0);
            }
            eprint!("opsfloor: {}", e.render());
            return ExitCode::from(error::EXIT_USAGE);
        }
    };
    let outcome = match cli.command {
        Command::Evaluate(args) => cmd::evaluate::run(&args),
        Command::Validate(args) => cmd::validate::run(&args),
        Command::Schema { report } => cmd::print_schema(report),
        Command::Calendar(command) => cmd::calendar::run(&command),
        Command::Fleet(args) => cmd::fleet::run(&args),
        Command::Probe(args) => cmd::probe::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Report(args) => cmd::report::run(&args),
        Command::Demo(args) => cmd::demo::run(&args),
        Command::History(command) => cmd::history::run(&command),
        Command::Token(command) => cmd::token::run(&command),
        Command::Rules(args) => cmd::generate::rules(&args),
        Command::Grafana(args) => cmd::generate::grafana(&args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("opsfloor: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_are_not_successes() {
        assert!(Cli::try_parse_from(["opsfloor", "calendar", "sessions"]).is_err());
    }
}
