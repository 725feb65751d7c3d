import ArgumentParser
import CloudHTTP
import DeployerModel
import DeployerServer
import DeployerStores
import Foundation

/// `apideployer secret create|rotate-key`: Secrets of the embedded deployer (global admins).
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "Create secrets and rotate the key that encrypts them at rest.",
        subcommands: [Create.self, RotateKey.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a Secret from literals and files; its values are never printed.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The Secret's name.") var name: String
        @Option(name: .customLong("from-literal"), help: "KEY=VALUE (repeatable).") var literals: [String] = []
        @Option(name: .customLong("from-file"), help: "KEY=PATH: the file's bytes (repeatable).") var files: [String] = []

        func validate() throws {
            if literals.isEmpty && files.isEmpty { throw ValidationError("give --from-literal KEY=VALUE or --from-file KEY=PATH") }
        }

        func run() async throws {
            var data: [String: JSONValue] = [:]
            for literal in literals {
                let (key, value) = try Self.pair(literal, option: "--from-literal")
                data[key] = .string(Base64.encode(Array(value.utf8)))
            }
            for file in files {
                let (key, path) = try Self.pair(file, option: "--from-file")
                guard let bytes = FileManager.default.contents(atPath: path) else { throw CLIError("--from-file \(key): cannot read \(path)") }
                data[key] = .string(Base64.encode(bytes))
            }
            let secret: JSONValue = [
                "apiVersion": .string(ResourceKind.apiVersion), "kind": "Secret", "metadata": ["name": .string(name)], "type": "Opaque",
                "data": .object(data),
            ]
            try await client.withClient { client in
                _ = try await client.send(.POST, APIPaths.collection(.secret, namespace: client.namespace), body: secret.serialized()).checked()
            }
            print("secret.\(ResourceKind.group) \"\(name)\" created")
        }

        /// `KEY=REST`; only the key is ever named in an error.
        private static func pair(_ text: String, option: String) throws -> (String, String) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { throw CLIError("\(option): expected KEY=VALUE") }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Encrypt every stored Secret with a new key and retire the old one (the server must be stopped).")
        @Option(help: "The deployer's data directory.") var dataDir = "./data"

        func run() async throws {
            let directory = DataDirectory(dataDir)
            guard FileManager.default.fileExists(atPath: directory.storePath) else { throw CLIError("\(dataDir) holds no store") }
            let lock = try DataDirectoryLock(directory: directory.url)
            let keyring = try SecretKeyring(path: directory.secretKeysPath)
            let journal = try await SQLiteJournal(path: directory.storePath, secrets: keyring)
            do {
                let key = try keyring.addKey()
                let count = try await journal.resealSecrets()
                try keyring.retireOldKeys()
                try await journal.close()
                print("\(count) stored secret rows encrypted with key \(key); older keys retired")
            } catch {
                try? await journal.close()
                throw error
            }
            withExtendedLifetime(lock) {}
        }
    }
}
