import DeployerModel
import Foundation

/// Finds and reads a kubeconfig the way kubectl does: `--kubeconfig`, then the first file of
/// `$KUBECONFIG`, then `./data/kubeconfig` (what `apideployer serve` writes by default), then
/// `~/.kube/config`.
public enum KubeconfigLoader {
    /// The path that would be used.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let variable = environment["KUBECONFIG"], let first = variable.split(separator: ":").first { return String(first) }
        let local = FileManager.default.currentDirectoryPath + "/data/kubeconfig"
        if FileManager.default.fileExists(atPath: local) { return local }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let standard = home + "/.kube/config"
        return FileManager.default.fileExists(atPath: standard) ? standard : nil
    }

    /// Reads and decodes a kubeconfig file.
    public static func load(path: String) throws -> Kubeconfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KubeconfigError("cannot read kubeconfig \(path)")
        }
        guard let document = try JSONValue.parseYAMLDocuments(text).first else {
            throw KubeconfigError("kubeconfig \(path) is empty")
        }
        do {
            return try document.decode(Kubeconfig.self)
        } catch {
            throw KubeconfigError("kubeconfig \(path) is not valid: \(error)")
        }
    }
}
