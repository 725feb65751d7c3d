// Store benchmark: the embedded API server over HTTPS next to the same operations done directly
// on SQLite with the same durability settings (WAL, synchronous=FULL), in one run.
// Usage: store-bench APIDEPLOYER_BINARY [objects] [watchers]   (see hack/bench/store.sh)
import CloudHTTP
import DeployerModel
import Foundation

/// Prints a line unbuffered, so progress shows when the output is piped.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    say("usage: store-bench PATH_TO_APIDEPLOYER [objects=10000] [watchers=100]")
    exit(2)
}
let objectCount = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000
let watcherCount = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100
let concurrency = 32
let work = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

say("# store benchmark: \(objectCount) objects, \(concurrency) concurrent clients, \(watcherCount) watchers")
say("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; disk: \(work.path)")

let server = try ServerUnderTest.start(binary: arguments[1], directory: work.appendingPathComponent("data"))
let api = try await APIBench.run(server: server, objects: objectCount, concurrency: concurrency, watchers: watcherCount)
server.stop()
let direct = try await DirectSQLiteBench.run(path: work.appendingPathComponent("direct.sqlite").path, objects: objectCount)

func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.0f%%", 100 * a / b) }
say("")
say("| measure | API server (HTTPS, durable) | direct SQLite, one commit per write | direct SQLite, commits of 64 | API vs per-write | API vs batched |")
say("|---|---|---|---|---|---|")
say(String(format: "| creates/s | %.0f | %.0f | %.0f | %@ | %@ |", api.createsPerSecond, direct.insertsPerSecond, direct.batchedInsertsPerSecond,
             ratio(api.createsPerSecond, direct.insertsPerSecond), ratio(api.createsPerSecond, direct.batchedInsertsPerSecond)))
say(String(format: "| updates/s | %.0f | %.0f | %.0f | %@ | %@ |", api.updatesPerSecond, direct.updatesPerSecond, direct.batchedUpdatesPerSecond,
             ratio(api.updatesPerSecond, direct.updatesPerSecond), ratio(api.updatesPerSecond, direct.batchedUpdatesPerSecond)))
say(String(format: "| list %d objects, median ms (p95) | %.1f (%.1f) | %.1f (%.1f) | | | |", objectCount, api.listMedianMs, api.listP95Ms, direct.selectMedianMs, direct.selectP95Ms))
say(String(format: "| watch events delivered/s (%d watchers) | %.0f | | | | |", watcherCount, api.watchEventsPerSecond))
say(String(format: "| server resident memory, MB (%d objects, %d watchers open) | %.0f | | | | |", objectCount, watcherCount, api.residentMB))
