import APINode
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `apideployer node`: the API node role.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run and administer an API node.", subcommands: [Init.self, Serve.self, Admin.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Create a node data directory with its bin/apinode-admin wrapper.")

        @Argument(help: "The data directory to create.")
        var dataDir: String

        func run() throws {
            let directory = URL(fileURLWithPath: dataDir).standardizedFileURL
            for folder in ["", "services", "run", "bin"] {
                try FileManager.default.createDirectory(
                    at: directory.appendingPathComponent(folder), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
            let wrapper = """
                #!/bin/sh
                # apinode-admin for this data directory (created by `apideployer node init`).
                exec "\(executable)" node admin --data-dir "\(directory.path)" "$@"

                """
            let wrapperPath = directory.appendingPathComponent("bin/apinode-admin").path
            guard FileManager.default.createFile(atPath: wrapperPath, contents: Data(wrapper.utf8), attributes: [.posixPermissions: 0o755])
            else { throw CLIError("cannot write \(wrapperPath)") }
            print("initialized \(directory.path); create an admin key with \(wrapperPath) admin-key-create")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the node's services.")

        @Option(help: "The node data directory (see `node init`).")
        var dataDir: String

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0 picks a free one).")
        var port = 12000

        func run() async throws {
            let logger = Logger(label: "apideployer.node")
            let directory = URL(fileURLWithPath: dataDir).standardizedFileURL
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("services").path) else {
                throw CLIError("\(dataDir) is not a node data directory: run `apideployer node init \(dataDir)` first")
            }
            let runtime = try NodeRuntime(dataDirectory: directory)
            let (queryLog, queryLogWriter) = QueryLog.make(directory: directory.appendingPathComponent("logs"))
            let server = NodeServer.make(runtime: runtime, queryLog: queryLog, host: host, port: port, logger: logger) { url in
                printFlushed("apinode: serving on \(url)")
            }
            // Services stop in reverse order: the server first (in-flight queries still log),
            // then the query log drains.
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: queryLogWriter), .init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        }
    }

    /// `apinode-admin`: admin keys on the data directory.
    struct Admin: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin", abstract: "Administer a node's data directory (what bin/apinode-admin runs).")

        @Option(help: "The node data directory.")
        var dataDir: String

        @Argument(help: "admin-key-create, admin-keys-list or admin-key-delete KEY_OR_ID.")
        var command: [String]

        @Option(help: "Label of a new admin key.")
        var label: String?

        func run() throws {
            let keys = AdminKeyStore(dataDirectory: URL(fileURLWithPath: dataDir))
            switch command.first {
            case "admin-key-create":
                let created = try keys.create(label: label, description: nil, createdBy: ProcessInfo.processInfo.environment["USER"], expiry: nil)
                print(created.key)
            case "admin-keys-list":
                for entry in try keys.entries() { print("\(entry.id)\t\(entry.label ?? "")\t\(entry.createdOn)") }
            case "admin-key-delete" where command.count == 2:
                guard try keys.delete(keyOrID: command[1]) else { throw CLIError("no admin key \(command[1])") }
                print("deleted")
            default:
                throw CLIError("unknown command \(command.joined(separator: " ")); the service and generation commands come with the admin tool's next revision")
            }
        }
    }
}
