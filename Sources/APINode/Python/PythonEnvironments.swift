import DeployerModel
import Crypto
import Foundation
import Logging
import Subprocess

/// Where Python endpoints run: the node's interpreter, the worker script, and the code
/// environments built for packages that declare requirements.
///
/// A code environment is a virtual environment under `code-envs/<hash>` of the data directory,
/// keyed by the hash of the interpreter and the requirements file, built at import (never at
/// query time), shared by every generation with the same requirements, and removed when no
/// loaded generation uses it. A folder without its `.ready` marker is an interrupted build and is
/// built again.
public actor PythonEnvironments {
    /// The node's Python interpreter (a path or a name on `PATH`).
    public nonisolated let python: String
    /// The folder holding `apideployer/worker.py` (written from the binary at start).
    public nonisolated let workerFolder: String
    /// How long an idle worker beyond `cruise` lives.
    public nonisolated let idleGrace: Duration
    nonisolated let logger: Logger
    private nonisolated let folder: URL
    private var building: [String: Task<String, any Error>] = [:]

    public init(dataDirectory: URL, python: String = "python3", idleGrace: Duration = .seconds(30), logger: Logger) throws {
        self.python = python
        self.idleGrace = idleGrace
        self.logger = logger
        folder = dataDirectory.appendingPathComponent("code-envs")
        let workers = dataDirectory.appendingPathComponent("run/python")
        workerFolder = workers.path
        try Self.writeWorker(to: workers.appendingPathComponent("apideployer"))
    }

    /// The interpreter for code with `requirements` (nil: the node's own), building its
    /// environment first if needed; throws `PythonLoadError` with pip's message.
    public func interpreter(requirements: URL?) async throws -> String {
        guard let requirements else { return python }
        let (interpreter, ready) = try interpreterPath(requirements: requirements)
        if ready { return interpreter }
        if let task = building[interpreter] { return try await task.value }
        let environment = URL(fileURLWithPath: interpreter).deletingLastPathComponent().deletingLastPathComponent()
        let task = Task { [python, logger] in
            try await Self.build(environment, requirements: requirements, python: python, logger: logger)
            return interpreter
        }
        building[interpreter] = task
        defer { building[interpreter] = nil }
        return try await task.value
    }

    /// Where the interpreter for `requirements` is, and whether its environment is built.
    public nonisolated func interpreterPath(requirements: URL?) throws -> (path: String, ready: Bool) {
        guard let requirements else { return (python, true) }
        let key = SHA256.hash(data: Data(python.utf8) + [0] + (try Data(contentsOf: requirements))).hexString.prefix(16)
        let environment = folder.appendingPathComponent(String(key))
        return (environment.appendingPathComponent("bin/python").path, FileManager.default.fileExists(atPath: environment.appendingPathComponent(".ready").path))
    }

    /// Removes the environments that none of `interpreters` belongs to.
    public func removeUnused(keeping interpreters: Set<String>) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names {
            let environment = folder.appendingPathComponent(name)
            let interpreter = environment.appendingPathComponent("bin/python").path
            guard !interpreters.contains(interpreter), building[interpreter] == nil else { continue }
            try? FileManager.default.removeItem(at: environment)
            logger.info("code environment removed", metadata: ["environment": "\(name)"])
        }
    }

    private static func build(_ environment: URL, requirements: URL, python: String, logger: Logger) async throws {
        try? FileManager.default.removeItem(at: environment)
        try FileManager.default.createDirectory(at: environment.deletingLastPathComponent(), withIntermediateDirectories: true)
        logger.info("building code environment", metadata: ["environment": "\(environment.lastPathComponent)"])
        try await step(python, ["-m", "venv", environment.path], what: "python -m venv")
        try await step(
            environment.appendingPathComponent("bin/python").path,
            ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet", "-r", requirements.path],
            what: "pip install -r \(requirements.lastPathComponent)")
        guard FileManager.default.createFile(atPath: environment.appendingPathComponent(".ready").path, contents: Data()) else {
            throw PythonLoadError(message: "cannot mark the code environment \(environment.lastPathComponent) ready")
        }
    }

    /// Runs one build step; its failure carries the end of its output.
    private static func step(_ executable: String, _ arguments: [String], what: String) async throws {
        let succeeded: Bool
        let output: String
        do {
            let result = try await Subprocess.run(
                Self.executable(executable), arguments: .init(arguments),
                output: .string(limit: 4 * 1024 * 1024), error: .combinedWithOutput)
            succeeded = result.terminationStatus.isSuccess
            output = result.standardOutput
        } catch {
            throw PythonLoadError(message: "\(what) could not run: \(error)")
        }
        guard succeeded else {
            throw PythonLoadError(message: "\(what) failed: " + output.split(separator: "\n").suffix(20).joined(separator: "\n"))
        }
    }

    /// A path when it holds a slash, else a name looked up on `PATH`.
    static func executable(_ text: String) -> Executable { text.contains("/") ? .path(.init(text)) : .name(text) }

    /// Writes the worker script and helpers where workers import them from.
    private static func writeWorker(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, bytes) in [("worker.py", PackageResources.worker_py), ("__init__.py", PackageResources.__init___py)] {
            let file = folder.appendingPathComponent(name)
            if FileManager.default.contents(atPath: file.path) != Data(bytes) { try AtomicFile.write(Data(bytes), to: file) }
        }
    }
}
