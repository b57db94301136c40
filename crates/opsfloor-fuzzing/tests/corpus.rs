//! The committed corpus (`fuzz/corpus/<target>/`) replayed on stable: every file
//! through every target (a seed of one target is hostile input to the others), and
//! every target has seeds of its own.

use std::path::PathBuf;

use opsfloor_fuzzing::TARGETS;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus"))
}

/// Every corpus file, as (target directory, file name, bytes), in a fixed order.
fn files() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (target, _) in TARGETS {
        let dir = corpus().join(target);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("entry").path())
            .collect();
        names.sort();
        for path in names {
            let bytes = std::fs::read(&path).expect("read seed");
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            out.push((target.to_owned(), name, bytes));
        }
    }
    out
}

#[test]
fn every_target_has_a_handful_of_seeds() {
    let files = files();
    for (target, _) in TARGETS {
        let n = files.iter().filter(|(t, _, _)| t == target).count();
        assert!(n >= 5, "fuzz/corpus/{target} holds {n} seeds");
    }
    // And the fuzz package names a binary for every target.
    let manifest =
        std::fs::read_to_string(corpus().join("../Cargo.toml")).expect("fuzz/Cargo.toml");
    for (target, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
    }
}

#[test]
fn every_seed_runs_through_every_target_without_panicking() {
    for (dir, name, bytes) in files() {
        for (target, run) in TARGETS {
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(
                outcome.is_ok(),
                "{target} panicked on fuzz/corpus/{dir}/{name}"
            );
        }
    }
}
