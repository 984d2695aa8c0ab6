import Foundation

/// The benchmark's figures as a Markdown table with the machine they came from, written between
/// the markers of `docs/benchmarks.md` (the rest of that file is prose kept by hand).
struct BenchReport: Sendable {
    var figures: [Bench.Figure]
    var options: Bench.Options
    var started: Date
    var quick: Bool

    init(figures: [Bench.Figure], options: Bench.Options, started: Date, quick: Bool) {
        self.figures = figures
        self.options = options
        self.started = started
        self.quick = quick
    }

    static let begin = "<!-- bench:begin -->"
    static let end = "<!-- bench:end -->"

    var table: String {
        var lines = ["| figure | value | target | met |", "| --- | ---: | --- | --- |"]
        for figure in figures {
            let value = figure.value >= 100 ? String(format: "%.0f", figure.value) : String(format: "%.2f", figure.value)
            let met = figure.met.map { $0 ? "yes" : "**no**" } ?? ""
            lines.append("| \(figure.name) | \(value) \(figure.unit) | \(figure.target) | \(met) |")
        }
        return lines.joined(separator: "\n")
    }

    var machine: String {
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?.split(separator: "\n").first.map(String.init) ?? "?"
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory.replacingOccurrences(of: "  ", with: ""))"
    }

    var command: String {
        quick
            ? "`make bench BENCH_ARGS=--quick` (`Benchmarks/.build/release/webhook-bridge-bench --quick`)"
            : "`make bench` (`Benchmarks/.build/release/webhook-bridge-bench`)"
    }

    var section: String {
        """
        \(Self.begin)
        Run of \(ISO8601DateFormatter().string(from: started))\(quick ? " (**--quick sizes, not for the record**)" : "") on \(machine).
        Command: \(command).
        Sizes: \(options.events) events unbatched, \(options.batchedEvents) batched, \(options.pythonEvents) for the Python forwarder,
        \(options.entities) entities on \(options.partitions) partitions; latency at \(options.latencyRate) events/s for \(options.latencySeconds) s;
        \(options.rssWebhooks) webhooks; a \(options.backlog)-event backlog; a \(options.catchUpBacklog)-event catch-up.

        \(table)
        \(Self.end)
        """
    }

    /// Replaces the section between the markers, or creates the file with it.
    func write(to url: URL) throws {
        var text = (try? String(contentsOf: url, encoding: .utf8)) ?? "# Benchmarks\n\n\(Self.begin)\n\(Self.end)\n"
        if let start = text.range(of: Self.begin), let stop = text.range(of: Self.end), start.lowerBound < stop.upperBound {
            text.replaceSubrange(start.lowerBound..<stop.upperBound, with: section)
        } else {
            text += "\n" + section + "\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
