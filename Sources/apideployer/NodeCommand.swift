import APINode
import DeployerModel
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

        @Option(help: "The Python interpreter of Python endpoints (their code environments are built from it).")
        var python = "python3"

        func run() throws {
            let directory = URL(fileURLWithPath: dataDir).standardizedFileURL
            let wrapperPath = try NodeAssembly.initialize(directory, configuration: NodeConfiguration(python: python))
            print("initialized \(directory.path); create an admin key with \(wrapperPath) admin-key-create")
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the node's services.")

        @Option(help: "The node data directory (see `node init`).")
        var dataDir: String

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0 picks a free one; default 12000, or the platform's with --platform).")
        var port: Int?

        @Option(help: "PEM certificate chain: serve HTTPS (with --tls-key).")
        var tlsCert: String?

        @Option(help: "PEM private key of --tls-cert.")
        var tlsKey: String?

        @Option(help: "PEM CA certificate(s): the admin API requires a client certificate they signed (with --tls-cert).")
        var tlsClientCa: String?

        @Option(help: "Also answer a managed platform's serving contract: sagemaker, azureml, vertexai, snowpark or kubernetes (with --package, or the packages the deployer names in the environment).")
        var platform: PlatformServing.Platform?

        @Option(help: "With --platform: the package to serve (imported and activated at start); default: APIDEPLOYER_GENERATIONS, APIDEPLOYER_PACKAGE_URL, SM_MODEL_DIR/package.zip or AIP_STORAGE_URI.")
        var package: String?

        @Option(help: "With --platform: the endpoint the platform's routes score (default: the package's first).")
        var endpoint: String?

        func validate() throws {
            guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
            if tlsClientCa != nil, tlsCert == nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
            if package != nil, platform == nil { throw ValidationError("--package needs --platform") }
            if endpoint != nil, platform == nil { throw ValidationError("--endpoint needs --platform") }
        }

        func run() async throws {
            let logger = Logger(label: "apideployer.node")
            let directory = URL(fileURLWithPath: dataDir).standardizedFileURL
            let tls = try tlsCert.map { try NodeTLS(certificateFile: $0, keyFile: tlsKey ?? "", clientCAFile: tlsClientCa) }
            let certificate = tlsCert.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let environment = ProcessInfo.processInfo.environment
            var serving: PlatformServing?
            if let platform {
                let packages = try PlatformPackages.described(platform: platform, package: package, environment: environment)
                serving = try await NodeAssembly.preparePlatform(
                    platform, packages: packages, endpoint: endpoint, directory: directory, environment: environment, logger: logger)
            }
            let chosenPort = port ?? platform.map { PlatformServing.port(for: $0, environment: environment) } ?? 12000
            let services = try NodeAssembly.services(
                directory: directory, host: host, port: chosenPort, tls: tls, certificateFile: certificate, platform: serving, logger: logger
            ) { url in
                printFlushed("apinode: serving on \(url)")
            }
            defer { try? FileManager.default.removeItem(at: LiveNode.file(in: directory)) }
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }

    /// `apinode-admin`: works on the data directory when the node is stopped, and through the
    /// node's admin API when it runs; both paths run the same admin requests.
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin", abstract: "Administer a node (what DATA_DIR/bin/apinode-admin runs).",
            discussion: """
                Commands: services-list, service-create ID, service-delete ID, services-clean,
                service-import-generation ID ZIP, service-list-generations ID, service-switch-to-newest ID,
                service-switch-to-generation ID GEN, service-set-mapping ID (mapping JSON on stdin),
                service-enable ID, service-disable ID, service-set-logging ID (logging JSON on stdin),
                service-clear-logging ID, admin-key-create, admin-keys-list, admin-key-delete KEY,
                metrics-get, predict ID ENDPOINT (features JSON on stdin).
                """)

        @Option(help: "The node data directory.")
        var dataDir: String

        @Argument(help: "The command and its arguments (see below).")
        var command: [String]

        @Option(help: "Label of a new admin key.")
        var label: String?

        func run() async throws {
            let directory = URL(fileURLWithPath: dataDir).standardizedFileURL
            let keys = AdminKeyStore(dataDirectory: directory)
            guard let name = command.first else { throw CLIError("give a command; see --help") }
            let arguments = Array(command.dropFirst())
            func argument(_ index: Int, _ what: String) throws -> String {
                guard index < arguments.count else { throw CLIError("\(name) needs \(what)") }
                return arguments[index]
            }
            switch name {
            case "admin-key-create":
                print(try keys.create(label: label, description: nil, createdBy: ProcessInfo.processInfo.environment["USER"], expiry: nil).key)
                return
            case "admin-keys-list":
                for entry in try keys.entries() { print("\(entry.id)\t\(entry.label ?? "")\t\(entry.createdOn)") }
                return
            case "admin-key-delete":
                guard try keys.delete(keyOrID: try argument(0, "a key or key id")) else { throw CLIError("no such admin key") }
                print("deleted")
                return
            default:
                break
            }
            let request: NodeAdminRequest
            switch name {
            case "services-list": request = .admin("GET", ["services"])
            case "service-create": request = .admin("POST", ["services"], body: JSONValue.object(["serviceId": .string(try argument(0, "a service id"))]).serialized())
            case "service-delete": request = .admin("DELETE", ["services", try argument(0, "a service id")])
            case "services-clean": request = .admin("DELETE", ["services-clean-unused"])
            case "service-import-generation":
                let archive = URL(fileURLWithPath: try argument(1, "a package archive")).standardizedFileURL.path
                request = .admin("POST", ["services", try argument(0, "a service id"), "generations", "actions", "importFromArchive"], query: ["filePath": archive])
            case "service-list-generations": request = .admin("GET", ["services", try argument(0, "a service id"), "generations"])
            case "service-switch-to-newest": request = .admin("POST", ["services", try argument(0, "a service id"), "actions", "switchToNewest"])
            case "service-switch-to-generation":
                request = .admin("POST", ["services", try argument(0, "a service id"), "actions", "switchTo", try argument(1, "a generation")])
            case "service-set-mapping":
                request = .admin("POST", ["services", try argument(0, "a service id"), "actions", "setMapping"], body: Array(FileHandle.standardInput.readDataToEndOfFile()))
            case "service-enable": request = .admin("POST", ["services", try argument(0, "a service id"), "actions", "enable"])
            case "service-disable": request = .admin("POST", ["services", try argument(0, "a service id"), "actions", "disable"])
            case "service-set-logging":
                request = .admin("PUT", ["services", try argument(0, "a service id"), "logging"], body: Array(FileHandle.standardInput.readDataToEndOfFile()))
            case "service-clear-logging": request = .admin("DELETE", ["services", try argument(0, "a service id"), "logging"])
            case "metrics-get": request = .admin("GET", ["metrics"])
            case "predict":
                request = .predict(service: try argument(0, "a service id"), endpoint: try argument(1, "an endpoint id"),
                                   body: Array(FileHandle.standardInput.readDataToEndOfFile()))
            default: throw CLIError("unknown command \(name); see --help")
            }
            let (status, body) = try await NodeAdminClient(dataDirectory: directory, keys: keys).perform(request)
            print(name == "service-list-generations" ? Self.generationsTable(body) : GetCommand.pretty(body))
            guard (200..<300).contains(status) else { throw ExitCode(1) }
        }

        static func generationsTable(_ body: JSONValue) -> String {
            let rows = (body["generations"]?.arrayValue ?? []).map { generation in
                [generation["generation"], generation["created"], generation["mounted"], generation["mappedPercent"]].map { $0.map(JSONPathExpression.text) ?? "" }
            }
            return ([["GENERATION", "CREATED", "MOUNTED", "MAPPED %"]] + rows).map { $0.map { $0.padding(toLength: 24, withPad: " ", startingAt: 0) }.joined() }
                .joined(separator: "\n")
        }
    }
}

extension PlatformServing.Platform: ExpressibleByArgument {}
