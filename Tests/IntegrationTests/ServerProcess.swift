import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer serve` running as a real process on a port chosen by the system.
final class ServerProcess: @unchecked Sendable {
    let child: ChildProcess
    let dataDirectory: URL
    let url: String

    var kubeconfigPath: String { dataDirectory.appendingPathComponent("kubeconfig").path }

    /// Starts the server and returns once it printed the address it serves on. Without
    /// `controller`, nothing reconciles (tests of the API alone).
    static func start(dataDirectory: URL, controller: Bool = false, extraArguments: [String] = []) async throws -> ServerProcess {
        let child = try ChildProcess(
            Products.apideployer,
            ["serve", "--data-dir", dataDirectory.path, "--port", "0"] + (controller ? [] : ["--no-controller"]) + extraArguments,
            directory: dataDirectory.deletingLastPathComponent())
        let url = try await waitForAddress(child)
        return ServerProcess(child: child, dataDirectory: dataDirectory, url: url)
    }

    private init(child: ChildProcess, dataDirectory: URL, url: String) {
        self.child = child
        self.dataDirectory = dataDirectory
        self.url = url
    }

    /// Waits for the "serving on" line and returns the URL it names.
    private static func waitForAddress(_ child: ChildProcess) async throws -> String {
        let marker = "apideployer: serving on "
        let text = try await child.waitForOutput(containing: marker)
        let rest = text[text.range(of: marker)!.upperBound...]
        return String(rest.prefix { $0 != " " })
    }

    /// A client authenticated with the bootstrap admin token.
    func client() throws -> KubeClient {
        try KubeClient(kubeconfig: try KubeconfigLoader.load(path: kubeconfigPath))
    }

    /// Stops with SIGTERM and waits (see `ChildProcess.terminate`).
    func stop() async {
        _ = await child.terminate()
    }

    /// Kills with SIGKILL and waits.
    func kill9() async {
        child.signal(SIGKILL)
        _ = await child.finish()
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
