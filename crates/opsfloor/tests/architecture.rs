//! ARCHITECTURE.md's layering, checked: the pure crates depend on nothing that
//! does I/O, and every crate in the workspace is named in the code map.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The `[dependencies]` section of a crate's manifest, one name per line.
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
        .expect("manifest");
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[dependencies]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split(['=', '.']).next())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect()
}

#[test]
fn the_pure_crates_do_no_io() {
    const IO: [&str; 7] = [
        "tokio",
        "reqwest",
        "axum",
        "hyper",
        "sqlx",
        "tower",
        "tower-http",
    ];
    for krate in ["opsfloor-contract", "opsfloor-engine"] {
        let deps = dependencies(krate);
        for io in IO {
            assert!(
                !deps.iter().any(|d| d == io),
                "{krate} depends on {io}: {deps:?}"
            );
        }
    }
}

#[test]
fn every_crate_is_in_the_code_map() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            map.contains(&format!("### `crates/{name}`")),
            "ARCHITECTURE.md has no section for crates/{name}"
        );
    }
}
