import APINode
import ArgumentParser
import CloudHTTP
import DeployerModel
import Foundation

/// `apideployer package build|push|list`: make package archives and keep them in the
/// deployer's content-addressed package store.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Build service packages and push them to the deployer's package store.",
        subcommands: [Build.self, Push.self, List.self])

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push", abstract: "Upload a package archive (validated completely by the server); prints its sha256.")

        @Argument(help: "The package archive (a zip with service.yaml at its root).")
        var file: String

        @OptionGroup var client: ClientOptions

        func run() async throws {
            let bytes: [UInt8]
            do {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw CLIError("\(file): cannot read it (\(error.localizedDescription))")
            }
            let entry = try await client.withClient { api in
                try await api.send(.POST, "/packages/v1", body: bytes, contentType: "application/zip", timeout: .seconds(600)).checked()
            }
            print("pushed \(file) (service \(entry["service"]?.stringValue ?? "?"), version \(entry["version"]?.stringValue ?? "?"))")
            print("sha256 \(entry["sha256"]?.stringValue ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the archives in the package store.")

        @OptionGroup var client: ClientOptions

        func run() async throws {
            let list = try await client.withClient { api in try await api.send(.GET, "/packages/v1").checked() }
            let rows = (list["items"]?.arrayValue ?? []).map { item in
                ["service", "version", "sha256", "size", "added"].map { field in
                    item[field]?.stringValue ?? item[field].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? ""
                }
            }
            printTable(header: ["SERVICE", "VERSION", "SHA256", "SIZE", "ADDED"], rows: rows)
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build", abstract: "Validate a folder with service.yaml and zip it (same folder, same sha256).")

        @Argument(help: "The package folder (service.yaml at its root).")
        var folder: String

        @Option(name: [.short, .customLong("output")], help: "Archive to write (default: SERVICE-VERSION.zip).")
        var output: String?

        func run() throws {
            let source = URL(fileURLWithPath: folder)
            let package: ValidatedPackage
            do {
                package = try PackageValidator.validate(folder: source)
            } catch let error as PackageError {
                throw CLIError("\(folder): \(error)")
            }
            let destination = URL(fileURLWithPath: output ?? "\(package.manifest.service)-\(package.manifest.version).zip")
            try PackageArchive.build(folder: source, to: destination)
            print("built \(destination.path) (service \(package.manifest.service), version \(package.manifest.version), "
                + "\(package.manifest.endpoints.count) endpoints)")
            print("sha256 \(try PackageArchive.sha256(of: destination))")
        }
    }
}
