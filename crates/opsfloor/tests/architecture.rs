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

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every module file of every crate is named in the code map: as `` `file.rs` ``,
/// as its path under `src/` (`` `cmd/report.rs` ``), or, for a directory of one
/// file per entry (the calendar's venues), by its directory (`` `venues/` ``).
/// Crate roots and `tests.rs` unit-test files are exempt.
#[test]
fn every_module_is_in_the_code_map() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let src = entry.expect("entry").path().join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if matches!(name.as_str(), "lib.rs" | "main.rs" | "tests.rs") {
                continue;
            }
            let relative = file
                .strip_prefix(&src)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            let directory = file
                .parent()
                .and_then(Path::file_name)
                .map(|d| format!("`{}/`", d.to_string_lossy()))
                .unwrap_or_default();
            let named = map.contains(&format!("`{name}`"))
                || map.contains(&format!("`{relative}`"))
                || (name != "mod.rs" && map.contains(&directory) && relative.contains('/'));
            if !named {
                missing.push(
                    file.strip_prefix(root())
                        .unwrap_or(&file)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {missing:?}"
    );
}
