//! The PostgreSQL harness against the real server.

use std::net::TcpListener;

use opsfloor_testkit::Postgres;

#[test]
fn starts_creates_databases_and_cleans_up() {
    let pg = Postgres::start().expect("start PostgreSQL");
    let url = pg.create_database("one").expect("create database");
    assert!(url.starts_with("postgres://postgres:"), "{url}");
    assert!(
        url.ends_with(&format!("@127.0.0.1:{}/one", pg.port())),
        "{url}"
    );
    assert_eq!(pg.psql("one", "SELECT 40 + 2").expect("query").trim(), "42");
    pg.create_database("two").expect("second database");
    assert!(pg.create_database("two").is_err(), "duplicate database");

    // A second server beside it gets its own port and directory.
    let other = Postgres::start().expect("second server");
    assert_ne!(other.port(), pg.port());
    let port = pg.port();
    drop(pg);
    // Stopped: the port can be bound again.
    TcpListener::bind(("127.0.0.1", port)).expect("port released");
}

#[test]
fn a_taken_port_is_retried_with_another() {
    // Hold many ports of the range: the harness must still find a free one.
    let held: Vec<TcpListener> = (20_000u16..32_000)
        .step_by(2)
        .filter_map(|p| TcpListener::bind(("127.0.0.1", p)).ok())
        .collect();
    assert!(held.len() > 1000);
    let pg = Postgres::start().expect("start despite taken ports");
    assert_eq!(pg.psql("postgres", "SELECT 1").expect("query").trim(), "1");
}
