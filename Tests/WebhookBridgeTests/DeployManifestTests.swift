import Foundation
import Testing
import Yams

@testable import WebhookBridge

/// `deploy/` (issue 14 item 5): the Dockerfile and the Kubernetes example, read as they are and
/// checked against each other and against the product (`DeployManifests.problems()`), since
/// neither Docker nor Kubernetes runs on the test machines.
@Suite("deploy/: the Dockerfile and the Kubernetes example")
struct DeployManifestTests {
    @Test("the manifests agree with each other, with the config loader and with the Dockerfile")
    func agree() throws {
        let manifests = try DeployManifests.load()
        #expect(manifests.kubernetes.keys.sorted() == ["configmap.yaml", "deployment.yaml", "secret.yaml", "service.yaml"])
        let problems = manifests.problems()
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the ConfigMap's file names every secret by a *_file key under the Secret's mount, and loads with the Secret's values")
    func secretsFromFiles() throws {
        let manifests = try DeployManifests.load()
        let configMap = try #require(try DeployManifests.documents(manifests.kubernetes["configmap.yaml"]!, file: "configmap.yaml").first)
        let text = try #require(configMap.at("data", "config.yaml")?.string)
        let files = try DeployManifests.secretFiles(in: text)
        #expect(files.map(\.keyPath) == [
            "kafka.properties_file.sasl.password", "smtp.password_file", "sites[0].token_file", "webhooks[0].hash_key_file",
        ])
        #expect(files.allSatisfy { $0.path.hasPrefix("/run/secrets/webhook-bridge/") })
        // No secret inline or from the environment: the Secret is the one source.
        for form in [" token:", " hash_key:", " password:", "_env:"] {
            #expect(!text.contains(form), "\(form)")
        }
    }

    /// Each check can fail: one change to one file, and the problem it must bring.
    @Test(
        "a manifest that disagrees is caught",
        arguments: [
            ("deployment.yaml", "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 20", "terminationGracePeriodSeconds 20 is not above"),
            ("configmap.yaml", "shutdown_timeout: 25s", "shutdown_timeout: 60s", "terminationGracePeriodSeconds 40 is not above"),
            ("deployment.yaml", "httpGet: {path: /ready, port: ops}", "httpGet: {path: /health, port: ops}", "readinessProbe does not get /ready"),
            ("deployment.yaml", "httpGet: {path: /health, port: ops}", "httpGet: {path: /health, port: admin}", "livenessProbe is not on the operators' port"),
            ("deployment.yaml", "containerPort: 9091", "containerPort: 9092", "the container port named ops is not"),
            ("configmap.yaml", "ops_listen: 0.0.0.0:9091", "ops_listen: 0.0.0.0:9092", "the container port named ops is not"),
            ("configmap.yaml", "admin_listen: 0.0.0.0:8080", "admin_listen: 127.0.0.1:8080", "http.admin_listen: loopback"),
            ("service.yaml", "targetPort: admin", "targetPort: 8081", "targetPort 8081 is neither"),
            ("configmap.yaml", "/run/secrets/webhook-bridge/erp-hash-key", "/etc/secrets/erp-hash-key", "webhooks[0].hash_key_file: /etc/secrets/erp-hash-key is under no volume mount"),
            ("secret.yaml", "  erp-hash-key: change-me-erp-hash-key-0000\n", "", "has no key erp-hash-key"),
            ("secret.yaml", "c404-token: change-me-c404-admin-token", "c404-token: short", "sites[0].token_file: must be at least 16 characters"),
            ("configmap.yaml", "token_file:", "token_fil:", "does not load: sites[0].token_fil: unknown key"),
            ("deployment.yaml", #""/etc/webhook-bridge/config.yaml"]"#, #""/etc/webhook-bridge/bridge.yaml"]"#, "no key bridge.yaml"),
            ("deployment.yaml", "  replicas: 3", "  replicas: 1", "spec.replicas is not 3"),
            ("Dockerfile", "librdkafka1 libssl3", "libssl3", "does not install librdkafka1"),
            ("Dockerfile", "FROM debian:bookworm-slim", "FROM debian:trixie-slim", "not the same Debian release"),
            ("Dockerfile", "/staging/webhook-bridge /usr/local/bin/webhook-bridge", "/staging/webhook-bridge /opt/webhook-bridge", "ENTRYPOINT [\"webhook-bridge\"] does not run the binary /opt/webhook-bridge"),
            ("Dockerfile", #"CMD ["run", "--config", "/etc/webhook-bridge/config.yaml"]"#, #"CMD ["run", "--config", "/config.yaml"]"#, "CMD does not read --config"),
            ("Dockerfile", "EXPOSE 8080 9091", "EXPOSE 8080", "EXPOSE [8080] lacks"),
            ("Dockerfile", "USER 10001:10001", "USER root", "USER none is not the Deployment's runAsUser"),
        ])
    func disagreementCaught(file: String, text: String, replacement: String, expected: String) throws {
        let manifests = try #require(try DeployManifests.load().replacing(text, with: replacement, in: file), "\(text) is not once in \(file)")
        let problems = manifests.problems()
        #expect(problems.contains { $0.contains(expected) }, "\(problems)")
    }

    @Test("the Dockerfile is read as its stages: images, packages installed, exec forms")
    func dockerfileStages() {
        let dockerfile = Dockerfile("""
            # build
            FROM swift:6.3-bookworm AS build
            RUN apt-get update \\
                && apt-get install -y --no-install-recommends \\
                    librdkafka-dev pkg-config
            FROM debian:bookworm-slim
            RUN apt-get update && apt-get install -y librdkafka1 && rm -rf /var/lib/apt/lists/*
            ENTRYPOINT ["webhook-bridge"]
            """)
        #expect(dockerfile.stages.map(\.image) == ["swift:6.3-bookworm", "debian:bookworm-slim"])
        #expect(dockerfile.stages.first?.installedPackages == ["librdkafka-dev", "pkg-config"])
        #expect(dockerfile.stages.last?.installedPackages == ["librdkafka1"])
        #expect(dockerfile.stages.last?.jsonArray("ENTRYPOINT") == ["webhook-bridge"])
        #expect(dockerfile.stages.last?.jsonArray("CMD") == nil)
    }
}
