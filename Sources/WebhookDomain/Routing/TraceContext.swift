/// A W3C Trace Context (https://www.w3.org/TR/trace-context/) carried from a source record's
/// headers to the outbound request (DESIGN.md §3). Only a well-formed `traceparent` is passed on,
/// and `tracestate` only with it; anything else is dropped, never sent as it came.
public struct TraceContext: Sendable, Equatable {
    public let traceParent: String
    public let traceState: String?

    /// Nil unless `traceParent` is `version-traceid-parentid-flags` in lowercase hex (version
    /// not `ff`, ids not all zero). A `tracestate` over 512 bytes or with control characters is
    /// dropped.
    public init?(traceParent: String?, traceState: String?) {
        guard let traceParent, Self.isValid(traceParent) else { return nil }
        self.traceParent = traceParent
        if let traceState, traceState.utf8.count <= 512, traceState.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            self.traceState = traceState
        } else {
            self.traceState = nil
        }
    }

    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].utf8.count == 2, parts[1].utf8.count == 32, parts[2].utf8.count == 16, parts[3].utf8.count == 2,
            parts[0] != "ff", parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return false }
        // Version 00 has exactly four parts; later versions may add more.
        return parts[0] != "00" || parts.count == 4
    }

    /// The headers of the outbound request.
    public var headers: [(name: String, value: String)] {
        [("traceparent", traceParent)] + (traceState.map { [("tracestate", $0)] } ?? [])
    }
}
