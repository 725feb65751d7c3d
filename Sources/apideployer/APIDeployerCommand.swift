import ArgumentParser
import Logging
import ServerLogging

/// `apideployer`: one binary, one subcommand per role.
@main
struct APIDeployerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apideployer",
        abstract: "Deploys versioned API services onto infrastructures from declarative specs.",
        subcommands: [
            ServeCommand.self, ControllerCommand.self, QuickstartCommand.self, ApplyCommand.self, GetCommand.self, DescribeCommand.self, DeleteCommand.self,
            WaitCommand.self, DiffCommand.self, PackageCommand.self, NodeCommand.self, EventServerCommand.self, LogsCommand.self, GenCommand.self,
            TokenCommand.self, UserCommand.self, GroupCommand.self, SecretCommand.self,
        ])

    /// Logs as swift-log's default handler does, but formats metadata only for messages logged.
    static func main() async {
        LoggingSystem.bootstrap(DeferredMetadataLogHandler.init(label:))
        await main(nil)
    }
}

/// A command-line failure with a message for the user (exit code 1).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints a line and flushes at once, so that scripts and tests reading a pipe see it now.
func printFlushed(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

import Foundation
