//! The deployment files: the Dockerfile and the Kubernetes manifests. No container
//! engine runs here, so the image is checked statically (hadolint, and what it
//! copies, runs as and exposes) and the manifests against the Kubernetes schemas
//! (kubernetes-validate, offline). Both tools are installed by `scripts/test`.

#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes release the manifests are validated against (bundled schemas).
const KUBERNETES_VERSION: &str = "1.34.0";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs a tool the tests need; a missing tool fails the test (never a skip).
fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("{name} is not installed ({e}): run ./scripts/test"))
}

/// The final stage's instructions of the Dockerfile, as (INSTRUCTION, arguments).
fn final_stage(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    let mut stage = Vec::new();
    for line in joined.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let word = word.to_ascii_uppercase();
        if word == "FROM" {
            stage.clear();
        }
        stage.push((word, rest.trim().to_owned()));
    }
    stage
}

/// The default of `opsfloor serve --listen`, read from the real binary's help.
fn default_listen() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["serve", "--help"])
        .output()
        .expect("run opsfloor serve --help");
    let help = String::from_utf8_lossy(&out.stdout);
    let after = help.split("--listen").nth(1).expect("--listen in help");
    let default = after.split("[default: ").nth(1).expect("a default");
    default.split(']').next().expect("]").to_owned()
}

fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().expect("a port")
}

#[test]
fn hadolint_accepts_the_dockerfile() {
    let out = tool("hadolint", &["--failure-threshold", "info", "Dockerfile"]);
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_image_copies_the_release_binary_runs_unprivileged_and_exposes_the_default_port() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked -p opsfloor"));
    assert!(dockerfile.contains("WORKDIR /src"));
    let stage = final_stage(&dockerfile);
    let get = |word: &str| -> Vec<&str> {
        stage
            .iter()
            .filter(|(w, _)| w == word)
            .map(|(_, a)| a.as_str())
            .collect()
    };

    // The binary copied is cargo's release output, under the build's WORKDIR.
    let copies = get("COPY");
    assert!(
        copies
            .iter()
            .any(|c| c.starts_with("--from=build /src/target/release/opsfloor ")),
        "no COPY of target/release/opsfloor in {copies:?}"
    );
    let cargo = read("crates/opsfloor/Cargo.toml");
    assert!(cargo.contains("[[bin]]\nname = \"opsfloor\""));

    // Not root, by name or number.
    let users = get("USER");
    assert_eq!(users.len(), 1, "{users:?}");
    let user = users[0].split(':').next().unwrap_or_default();
    assert!(!["root", "0", ""].contains(&user), "USER {user}");
    assert!(user.parse::<u32>().is_ok_and(|u| u > 0), "USER {user}");

    // The exposed port is serve's default, and the container listens on it on 0.0.0.0.
    let default = default_listen();
    assert_eq!(default, "127.0.0.1:8080");
    assert_eq!(get("EXPOSE"), vec![port_of(&default)]);
    let cmd = get("CMD").concat();
    let wanted = format!("\"--listen\", \"0.0.0.0:{}\"", port_of(&default));
    assert!(cmd.contains(&wanted), "CMD {cmd} lacks {wanted}");
    assert_eq!(get("ENTRYPOINT"), vec!["[\"/usr/local/bin/opsfloor\"]"]);
}

const MANIFESTS: [&str; 5] = [
    "configmap.yaml",
    "deployment.yaml",
    "pdb.yaml",
    "secret.yaml",
    "service.yaml",
];

#[test]
fn the_manifests_match_the_kubernetes_schemas() {
    let mut args = vec!["--strict", "--kubernetes-version", KUBERNETES_VERSION];
    let paths: Vec<String> = MANIFESTS
        .iter()
        .map(|m| format!("deploy/kubernetes/{m}"))
        .collect();
    args.extend(paths.iter().map(String::as_str));
    let out = tool("kubernetes-validate", &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubernetes-validate:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches(" passed for resource ").count(),
        5,
        "{stdout}"
    );
}

/// A manifest as JSON, through PyYAML (installed with kubernetes-validate).
fn manifest(name: &str) -> serde_json::Value {
    let path = format!("deploy/kubernetes/{name}");
    let out = tool(
        "python3",
        &[
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            &path,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn the_deployment_probes_health_mounts_the_inventory_and_reads_the_db_from_the_secret() {
    let deployment = manifest("deployment.yaml");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/health");
    assert!(container["livenessProbe"].is_object());
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(
        container["ports"][0]["containerPort"].to_string(),
        port_of(&default_listen())
    );
    let args: Vec<&str> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    let after = |flag: &str| args.iter().position(|a| *a == flag).map(|i| args[i + 1]);
    assert_eq!(after("--listen"), Some("0.0.0.0:8080"));
    assert_eq!(after("--db"), Some("$(OPSFLOOR_DB)"));
    let env = &container["env"][0];
    assert_eq!(env["name"], "OPSFLOOR_DB");
    let secret = manifest("secret.yaml");
    assert_eq!(
        env["valueFrom"]["secretKeyRef"]["name"],
        secret["metadata"]["name"]
    );
    assert!(
        secret["stringData"][env["valueFrom"]["secretKeyRef"]["key"]
            .as_str()
            .expect("key")]
        .is_string()
    );

    // The inventory the pod reads is the ConfigMap's, and it is a valid inventory.
    let config = after("--config").expect("--config");
    let mount = &container["volumeMounts"][0];
    let volume = &pod["volumes"][0];
    assert_eq!(mount["name"], volume["name"]);
    let configmap = manifest("configmap.yaml");
    assert_eq!(volume["configMap"]["name"], configmap["metadata"]["name"]);
    let key = config
        .strip_prefix(&format!("{}/", mount["mountPath"].as_str().expect("path")))
        .expect("--config under the mount");
    let inventory = configmap["data"][key]
        .as_str()
        .expect("inventory in the ConfigMap");
    let parsed = opsfloor_inventory::parse(
        inventory,
        Path::new("configmap.yaml"),
        opsfloor_inventory::Format::Toml,
    );
    assert!(parsed.is_ok(), "{parsed:?}");

    // Off loopback the floor needs access control: the --access file is the
    // ConfigMap's too, and it is a valid [access] table.
    let access = after("--access").expect("--access");
    let key = access
        .strip_prefix(&format!("{}/", mount["mountPath"].as_str().expect("path")))
        .expect("--access under the mount");
    let table = configmap["data"][key]
        .as_str()
        .expect("access in the ConfigMap");
    let checked = opsfloor_access::AccessConfig::from_toml_str(table);
    assert!(checked.is_ok(), "{checked:?}");

    // The Service and the PodDisruptionBudget select these pods.
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&manifest("service.yaml")["spec"]["selector"], labels);
    let pdb = manifest("pdb.yaml");
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
}
