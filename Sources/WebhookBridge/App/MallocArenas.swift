import Foundation

/// glibc's malloc gives busy threads arenas of their own, up to eight per core, and an arena keeps
/// what was freed in it. The bridge has many short-lived allocations on many threads (the
/// cooperative pool, NIO's event loops, librdkafka's threads), so peak RSS grows with the number
/// of arenas; two are enough (the figures are in docs/benchmarks.md).
public enum MallocArenas {
    /// Caps the arenas at `count`, unless `MALLOC_ARENA_MAX` is set (the user's choice wins).
    /// Call it first thing, before other threads allocate. `mallopt` is looked up at run time:
    /// Swift's Glibc module does not export it.
    public static func limit(to count: Int32 = 2) {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil, let program = dlopen(nil, RTLD_NOW),
            let mallopt = dlsym(program, "mallopt")
        else { return }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        _ = unsafeBitCast(mallopt, to: Mallopt.self)(arenaMax, count)
    }
}
