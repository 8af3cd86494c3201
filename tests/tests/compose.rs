//! `compose.yaml` cannot be run here (no Docker engine), so it is at least parsed: valid
//! YAML naming the four services, wired to each other.

use serde_yaml::Value;

#[test]
fn compose_file_names_the_four_services_and_wires_them() -> anyhow::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../compose.yaml");
    let text = std::fs::read_to_string(path)?;
    let compose: Value = serde_yaml::from_str(&text)?;
    let services = compose
        .get("services")
        .and_then(Value::as_mapping)
        .ok_or_else(|| anyhow::anyhow!("no services"))?;
    for name in ["nats", "mongo", "command-api", "projector"] {
        assert!(services.contains_key(name), "service {name} missing");
    }
    for app in ["command-api", "projector"] {
        let env = serde_yaml::to_string(&services[app]["environment"])?;
        assert!(
            env.contains("nats://nats:4222"),
            "{app} must reach NATS by service name: {env}"
        );
        assert!(
            env.contains("mongodb://mongo:27017"),
            "{app} must reach MongoDB by service name: {env}"
        );
    }
    // Published ports are on the loopback unless the operator says otherwise.
    for (name, service) in services {
        for port in service["ports"].as_sequence().into_iter().flatten() {
            let port = port.as_str().unwrap_or_default();
            assert!(
                port.starts_with("127.0.0.1:") || port.starts_with("${TILLSTREAM_API_BIND:-127.0.0.1}:"),
                "{name:?} publishes {port:?} beyond the loopback by default"
            );
        }
    }
    let nats_command = serde_yaml::to_string(&services["nats"]["command"])?;
    assert!(
        nats_command.contains("nats.conf"),
        "nats must run with nats.conf: {nats_command}"
    );
    Ok(())
}
