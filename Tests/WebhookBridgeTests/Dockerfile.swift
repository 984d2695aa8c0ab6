import Foundation

/// A Dockerfile read as its instructions, split into stages: enough to check what each stage
/// builds from, copies, installs and runs (`DeployManifests`).
struct Dockerfile {
    struct Stage {
        /// The `FROM` image, without `AS name`.
        var image: String
        var instructions: [(keyword: String, arguments: String)] = []

        func arguments(_ keyword: String) -> [String] {
            instructions.filter { $0.keyword == keyword }.map(\.arguments)
        }

        /// The last `keyword ["a", "b"]` (the exec form of `ENTRYPOINT`, `CMD`), nil when absent or
        /// not in that form.
        func jsonArray(_ keyword: String) -> [String]? {
            arguments(keyword).last.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        }

        /// The packages `apt-get install` names in this stage's `RUN`s.
        var installedPackages: Set<String> {
            var packages: Set<String> = []
            for command in arguments("RUN").flatMap({ $0.components(separatedBy: "&&") }) {
                let words = command.split(whereSeparator: \.isWhitespace).map(String.init)
                guard let install = words.firstIndex(of: "install"), words[..<install].contains("apt-get") else { continue }
                packages.formUnion(words[(install + 1)...].filter { !$0.hasPrefix("-") })
            }
            return packages
        }
    }

    var stages: [Stage] = []

    /// Comments dropped, continuation lines (`\` at the end) joined.
    init(_ text: String) {
        var logical: [String] = []
        var pending = ""
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") { continue }
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast() + " "
                continue
            }
            let whole = pending + trimmed
            pending = ""
            if !whole.isEmpty { logical.append(whole) }
        }
        for line in logical {
            let keyword = String(line.prefix { !$0.isWhitespace }).uppercased()
            let arguments = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            if keyword == "FROM" {
                stages.append(Stage(image: String(arguments.split(separator: " ").first { !$0.hasPrefix("--") } ?? "")))
            } else if !stages.isEmpty {
                stages[stages.count - 1].instructions.append((keyword, arguments))
            }
        }
    }
}
