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

#[test]
fn compose_gives_each_service_its_own_nats_and_mongodb_user_with_generated_passwords() -> anyhow::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../compose.yaml");
    let compose: Value = serde_yaml::from_str(&std::fs::read_to_string(path)?)?;
    let services = &compose["services"];
    for (app, nats_user, mongo_user, variable) in [
        ("command-api", "api", "tillstream_api", "API"),
        ("projector", "projector", "tillstream_projector", "PROJECTOR"),
        ("webhooks", "webhooks", "tillstream_webhooks", "WEBHOOKS"),
    ] {
        let env = &services[app]["environment"];
        assert_eq!(env["NATS_USER"].as_str(), Some(nats_user), "{app}");
        assert_eq!(env["MONGODB_USER"].as_str(), Some(mongo_user), "{app}");
        // Passwords are compose variables that must be set (scripts/compose-env), never literals.
        for (key, name) in [("NATS_PASSWORD", "NATS"), ("MONGODB_PASSWORD", "MONGO")] {
            let value = env[key].as_str().unwrap_or_default();
            assert!(
                value.starts_with(&format!("${{{name}_{variable}_PASSWORD:?")),
                "{app} {key}: {value:?}"
            );
        }
        for key in ["NATS_URL", "MONGODB_URI"] {
            assert!(
                !env[key].as_str().unwrap_or_default().contains('@'),
                "{app}: no credentials in {key}"
            );
        }
    }
    // The users exist only in the generated NATS configuration, and the users' file is
    // one scripts/nats-users can write.
    let volumes = serde_yaml::to_string(&services["nats"]["volumes"])?;
    assert!(
        volumes.contains("./.services/compose/nats-auth.conf:/etc/nats/nats.conf"),
        "{volumes}"
    );
    // MongoDB: root from the image, the services' users from mongo-users.js and mongo-roles.json.
    let mongo = &services["mongo"];
    assert_eq!(
        mongo["environment"]["MONGO_INITDB_ROOT_USERNAME"].as_str(),
        Some("tillstream_ops")
    );
    let volumes = serde_yaml::to_string(&mongo["volumes"])?;
    assert!(
        volumes.contains("./mongo-users.js:/docker-entrypoint-initdb.d/"),
        "{volumes}"
    );
    assert!(
        volumes.contains("./mongo-roles.json:/etc/tillstream/mongo-roles.json"),
        "{volumes}"
    );
    let entrypoint = serde_yaml::to_string(&mongo["entrypoint"])?;
    assert!(
        entrypoint.contains("--keyFile"),
        "a replica set with users needs a key file: {entrypoint}"
    );
    let roles: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mongo-roles.json"
    ))?)?;
    for role in ["tillstream_api", "tillstream_projector", "tillstream_webhooks"] {
        let privileges = roles["roles"][role].to_string();
        for never in ["drop", "rename", "User", "Role", "anyAction"] {
            assert!(!privileges.contains(never), "{role} may {never}: {privileges}");
        }
    }
    Ok(())
}
