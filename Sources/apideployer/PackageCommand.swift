import APINode
import ArgumentParser
import Foundation

/// `apideployer package build DIR`: validates a package folder completely, then zips it.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Build service packages.", subcommands: [Build.self])

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
