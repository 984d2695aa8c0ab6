import Foundation
import Yams

@testable import WebhookBridge

/// `deploy/` as text: the Kubernetes example (`deploy/kubernetes/*.yaml`) and the Dockerfile, with
/// the checks that they agree with each other and with the product (`problems()`). Docker and
/// Kubernetes cannot run on the test machines (issue 14 item 5), so this is what stands for
/// deploying: the ConfigMap's file loads with the product's own loader, with the Secret's values
/// at the paths its `*_file` keys name; ports, probes, Services, the grace period, the image's
/// binary, user and packages match.
struct DeployManifests {
    static let directory = ConfigTests.repository.appendingPathComponent("deploy")

    /// `deploy/kubernetes/*.yaml` by file name.
    var kubernetes: [String: String]
    var dockerfile: String

    static func load() throws -> DeployManifests {
        let folder = directory.appendingPathComponent("kubernetes")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".yaml") {
            files[name] = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
        return DeployManifests(kubernetes: files, dockerfile: try String(contentsOf: directory.appendingPathComponent("Dockerfile"), encoding: .utf8))
    }

    /// These files with `text` replaced in `file` (a name of `kubernetes`, or `Dockerfile`); nil
    /// unless `text` occurs there exactly once.
    func replacing(_ text: String, with replacement: String, in file: String) -> DeployManifests? {
        var copy = self
        let original = file == "Dockerfile" ? dockerfile : kubernetes[file] ?? ""
        guard original.components(separatedBy: text).count == 2 else { return nil }
        let changed = original.replacingOccurrences(of: text, with: replacement)
        if file == "Dockerfile" { copy.dockerfile = changed } else { copy.kubernetes[file] = changed }
        return copy
    }

    /// Every way the files disagree, each naming where; empty when they agree.
    func problems() -> [String] {
        var problems: [String] = []
        do { try check(into: &problems) } catch { problems.append("\(error)") }
        return problems
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    private func check(into problems: inout [String]) throws {
        func expect(_ condition: Bool, _ problem: @autoclosure () -> String) {
            if !condition { problems.append(problem()) }
        }
        func require<T>(_ value: T?, _ problem: @autoclosure () -> String) throws -> T {
            guard let value else { throw Unreadable(description: problem()) }
            return value
        }
        let objects = try kubernetes.keys.sorted().flatMap { name in try Self.documents(kubernetes[name]!, file: name) }
        let deployments = objects.filter { $0["kind"]?.string == "Deployment" }
        let deployment = try require(deployments.count == 1 ? deployments.first : nil, "kubernetes: \(deployments.count) Deployments, expected 1")
        let pod = try require(deployment.at("spec", "template", "spec"), "Deployment: no spec.template.spec")
        let container = try require(pod["containers"]?.array().first, "Deployment: no container")
        let ports = container["ports"]?.array() ?? []
        let mounts = (container["volumeMounts"]?.array() ?? []).compactMap { mount in
            mount["mountPath"]?.string.map { (path: $0, volume: mount["name"]?.string ?? "") }
        }
        func volume(_ name: String) -> Node? { pod["volumes"]?.array().first { $0["name"]?.string == name } }
        func object(_ kind: String, _ name: String?) -> Node? {
            objects.first { $0["kind"]?.string == kind && $0.at("metadata", "name")?.string == name }
        }
        /// A port given by number or by the name of one of the container's ports.
        func containerPort(_ reference: Node?) -> Int? {
            if let number = reference?.int { return number }
            return ports.first { $0["name"]?.string == reference?.string }?["containerPort"]?.int
        }
        /// The mount holding `path` (the deepest one) and the path inside it.
        func mount(holding path: String) -> (path: String, volume: String, key: String)? {
            mounts.filter { path.hasPrefix($0.path + "/") }.max { $0.path.count < $1.path.count }
                .map { ($0.path, $0.volume, String(path.dropFirst($0.path.count + 1))) }
        }

        expect(deployment.at("spec", "replicas")?.int == 3, "Deployment: spec.replicas is not 3")
        let podLabels = deployment.at("spec", "template", "metadata", "labels")
        for (key, value) in deployment.at("spec", "selector", "matchLabels")?.mapping ?? [:] {
            expect(podLabels?[key] == value, "Deployment: selector \(key.string ?? "") does not match the pod's labels")
        }

        // The config file: the ConfigMap key mounted where `run --config` reads it.
        let arguments = container["args"]?.array(of: String.self) ?? []
        let configPath = try require(Self.value(after: "--config", in: arguments), "Deployment: args have no --config FILE: \(arguments)")
        let configMount = try require(mount(holding: configPath), "Deployment: --config \(configPath) is under no volume mount")
        let configMapName = volume(configMount.volume)?.at("configMap", "name")?.string
        let configMap = try require(object("ConfigMap", configMapName), "Deployment: --config \(configPath) is not in a mounted ConfigMap")
        let configText = try require(configMap.at("data", configMount.key)?.string, "ConfigMap \(configMapName ?? ""): no key \(configMount.key) for --config \(configPath)")

        // Every `*_file` of the file lies in a mounted Secret that has its key; the file then
        // loads with those values at those paths (here: in a temporary directory).
        let secretFiles = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: secretFiles) }
        var loadable = configText
        for (keyPath, path) in try Self.secretFiles(in: configText) {
            guard let mount = mount(holding: path) else {
                problems.append("config.yaml \(keyPath): \(path) is under no volume mount of the container")
                continue
            }
            let secretName = volume(mount.volume)?.at("secret", "secretName")?.string
            guard let secret = object("Secret", secretName) else {
                problems.append("config.yaml \(keyPath): \(path) is in volume \(mount.volume), not a Secret of the manifests")
                continue
            }
            let value = secret.at("stringData", mount.key)?.string
                ?? secret.at("data", mount.key)?.string.flatMap { Data(base64Encoded: $0) }.flatMap { String(data: $0, encoding: .utf8) }
            guard let value else {
                problems.append("config.yaml \(keyPath): Secret \(secretName ?? "") has no key \(mount.key) for \(path)")
                continue
            }
            let local = secretFiles.appendingPathComponent(mount.volume)
            try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
            try Data(value.utf8).write(to: local.appendingPathComponent(mount.key))
            loadable = loadable.replacingOccurrences(of: mount.path + "/", with: local.path + "/")
        }
        let config: BridgeConfig
        do { config = try BridgeConfig.parse(yaml: loadable, environment: [:]) } catch {
            problems.append("config.yaml (ConfigMap \(configMapName ?? "")) does not load: \(error)")
            return
        }
        try checkDocumented(configText, into: &problems)

        // Ports: the listeners reachable from the kubelet and Services, on the named container ports.
        let admin = config.http.adminPort
        let operators = config.http.opsListen?.port ?? admin
        for (key, host) in [("admin_listen", config.http.adminHost), ("ops_listen", config.http.opsListen?.host)] {
            expect(!["127.0.0.1", "localhost", "::1"].contains(host ?? ""), "config.yaml http.\(key): loopback \(host ?? ""), unreachable from the probes and Services")
        }
        expect(containerPort(Node("admin")) == admin, "Deployment: the container port named admin is not http.admin_listen's \(admin)")
        expect(containerPort(Node("ops")) == operators, "Deployment: the container port named ops is not http.ops_listen's \(operators)")
        for (probe, path) in [("livenessProbe", "/health"), ("readinessProbe", "/ready")] {
            expect(container.at(probe, "httpGet", "path")?.string == path, "Deployment: \(probe) does not get \(path)")
            expect(containerPort(container.at(probe, "httpGet", "port")) == operators, "Deployment: \(probe) is not on the operators' port \(operators)")
        }
        let services = objects.filter { $0["kind"]?.string == "Service" }
        for service in services {
            let name = service.at("metadata", "name")?.string ?? ""
            for (key, value) in service.at("spec", "selector")?.mapping ?? [:] {
                expect(podLabels?[key] == value, "Service \(name): selector \(key.string ?? "") matches no pod of the Deployment")
            }
            for port in service.at("spec", "ports")?.array() ?? [] {
                let target = containerPort(port["targetPort"] ?? port["port"])
                expect(target == admin || target == operators, "Service \(name): targetPort \(port["targetPort"]?.string ?? "") is neither listener's port")
            }
        }
        expect(services.contains { ($0.at("spec", "ports")?.array() ?? []).contains { containerPort($0["targetPort"]) == admin } },
               "kubernetes: no Service for the admin API (port \(admin))")

        // A graceful shutdown fits in the grace period (30 s when not given).
        let grace = pod["terminationGracePeriodSeconds"]?.int ?? 30
        expect(Duration.seconds(grace) > config.shutdownTimeout, "Deployment: terminationGracePeriodSeconds \(grace) is not above the config's shutdown_timeout \(config.shutdownTimeout)")

        try checkImage(command: container["command"]?.array(of: String.self), configPath: configPath,
                       ports: [admin, operators], user: pod.at("securityContext", "runAsUser")?.int, into: &problems)
    }

    /// The image: its binary where the Deployment runs it, its default arguments reading the same
    /// file, its ports, its user, and what librdkafka needs in the runtime stage.
    private func checkImage(command: [String]?, configPath: String, ports: [Int], user: Int?, into problems: inout [String]) throws {
        func expect(_ condition: Bool, _ problem: @autoclosure () -> String) {
            if !condition { problems.append(problem()) }
        }
        let stages = Dockerfile(dockerfile).stages
        guard stages.count >= 2, let build = stages.first, let runtime = stages.last else {
            problems.append("Dockerfile: not multi-stage (\(stages.count) stage)")
            return
        }
        expect(build.image.hasPrefix("swift:6.3"), "Dockerfile: the build stage is \(build.image), not Swift 6.3's image")
        expect(build.arguments("RUN").contains { $0.contains("swift build -c release --product webhook-bridge") }, "Dockerfile: no release build of webhook-bridge")
        let codename = { (image: String) in ["bookworm", "trixie", "bullseye", "jammy", "noble"].first { image.contains($0) } }
        expect(codename(build.image) != nil && codename(build.image) == codename(runtime.image),
               "Dockerfile: build (\(build.image)) and runtime (\(runtime.image)) are not the same Debian release (librdkafka's headers and library)")
        for package in ["librdkafka1", "libssl3", "ca-certificates"] {
            expect(runtime.installedPackages.contains(package), "Dockerfile: the runtime stage does not install \(package)")
        }
        let binary = runtime.arguments("COPY").compactMap { $0.split(separator: " ").last.map(String.init) }.first { $0.hasSuffix("/webhook-bridge") }
        guard let binary else {
            problems.append("Dockerfile: the runtime stage copies no webhook-bridge binary")
            return
        }
        let entrypoint = runtime.jsonArray("ENTRYPOINT") ?? []
        let slash = binary.lastIndex(of: "/") ?? binary.startIndex
        let inPath = ["/usr/local/bin", "/usr/bin", "/bin"].contains(String(binary[..<slash]))
        expect(entrypoint.first == binary || (inPath && entrypoint.first == String(binary[slash...].dropFirst())),
               "Dockerfile: ENTRYPOINT \(entrypoint) does not run the binary \(binary)")
        expect(command == nil || command?.first == binary, "Deployment: command \(command ?? []) is not the image's binary \(binary)")
        expect(Self.value(after: "--config", in: runtime.jsonArray("CMD") ?? []) == configPath, "Dockerfile: CMD does not read --config \(configPath) as the Deployment does")
        let exposed = Set(runtime.arguments("EXPOSE").flatMap { $0.split(separator: " ").compactMap { Int($0) } })
        expect(Set(ports).isSubset(of: exposed), "Dockerfile: EXPOSE \(exposed.sorted()) lacks a listener port of \(ports)")
        let imageUser = runtime.arguments("USER").last.flatMap { Int($0.split(separator: ":").first ?? "") }
        expect(imageUser != nil && imageUser != 0 && imageUser == user, "Dockerfile: USER \(imageUser.map(String.init) ?? "none") is not the Deployment's runAsUser \(user.map(String.init) ?? "none")")
    }

    /// Every key the deployed file uses appears in `config/example.yaml` (as `key:`, commented or
    /// not), so the example documents what production uses. Free-form mappings' keys are not keys
    /// of the product.
    private func checkDocumented(_ configText: String, into problems: inout [String]) throws {
        let example = try String(contentsOf: ConfigTests.repository.appendingPathComponent("config/example.yaml"), encoding: .utf8)
        Self.walk(try Yams.compose(yaml: configText)) { path, key, _ in
            if !example.contains("\(key):") { problems.append("config.yaml \(path): not documented in config/example.yaml") }
            return !["properties", "properties_env", "properties_file", "notifications", "headers"].contains(key)
        }
    }

    /// The `*_file` keys of a config file with the paths they name (`kafka.properties_file` maps
    /// each property to one).
    static func secretFiles(in configText: String) throws -> [(keyPath: String, path: String)] {
        var found: [(String, String)] = []
        walk(try Yams.compose(yaml: configText)) { path, key, value in
            guard key.hasSuffix("_file") else { return true }
            if let file = value.string { found.append((path, file)) }
            for (property, file) in value.mapping ?? [:] { found.append(("\(path).\(property.string ?? "")", file.string ?? "")) }
            return false
        }
        return found
    }

    /// Calls `visit` with every mapping entry below `node` (its key path as the loader names it,
    /// `sites[0].token_file`, its key and its value), in file order; below an entry only when
    /// `visit` returns true.
    static func walk(_ node: Node?, path: String = "", _ visit: (_ path: String, _ key: String, _ value: Node) -> Bool) {
        for (key, value) in node?.mapping ?? [:] {
            let name = key.string ?? ""
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if visit(keyPath, name, value) { walk(value, path: keyPath, visit) }
        }
        for (index, item) in (node?.sequence ?? []).enumerated() { walk(item, path: "\(path)[\(index)]", visit) }
    }

    static func documents(_ text: String, file: String) throws -> [Node] {
        var documents = try Yams.compose_all(yaml: text)
        var nodes: [Node] = []
        while let node = documents.next() { nodes.append(node) }
        if let error = documents.error { throw Unreadable(description: "\(file): not valid YAML: \(error)") }
        return nodes
    }

    static func value(after flag: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: flag).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
    }
}

extension Node {
    /// The node at a path of mapping keys.
    func at(_ keys: String...) -> Node? {
        keys.reduce(Optional(self)) { node, key in node?[key] }
    }
}
