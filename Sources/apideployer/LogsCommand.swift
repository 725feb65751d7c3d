import ArgumentParser
import AsyncHTTPClient
import DeployerModel
import Foundation
import NIOCore

/// `apideployer logs`: reads events back from an event server.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Read query logs and other events from an event server.", subcommands: [Queries.self, Audit.self, Events.self])

    /// Where to read and what time range.
    struct Source: ParsableArguments {
        @Option(help: "The event server's URL (or APIDEPLOYER_EVENT_SERVER).")
        var eventServer: String?

        @Option(help: "How far back: 90s, 30m, 1h, 2d, or an RFC 3339 time.")
        var since = "1h"

        @Option(help: "Up to when (same forms as --since); default: now.")
        var until: String?

        @Flag(help: "Keep printing events as they are stored.")
        var follow = false

        @Flag(help: "Print the stored lines (with origAddress and serverTimestamp), not just the events.")
        var envelope = false

        /// Streams the events of `topic` and `routingKey` to standard output, one JSON line each.
        func print(topic: String, routingKey: String) async throws {
            let environment = ProcessInfo.processInfo.environment
            guard let server = eventServer ?? environment["APIDEPLOYER_EVENT_SERVER"] else {
                throw ValidationError("--event-server (or APIDEPLOYER_EVENT_SERVER) is required")
            }
            var query = URLComponents()
            query.queryItems = [.init(name: "topic", value: topic), .init(name: "routingKey", value: routingKey), .init(name: "since", value: since)]
                + (until.map { [.init(name: "until", value: $0)] } ?? []) + (follow ? [.init(name: "follow", value: "true")] : [])
            var request = HTTPClientRequest(url: server.trimmingCharacters(in: ["/"]) + "/events" + (query.string ?? ""))
            if let key = environment["APIDEPLOYER_EVENT_KEY"] { request.headers.add(name: "X-Event-Key", value: key) }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await stream(request, http: http)
                try await http.shutdown()
            } catch {
                try? await http.shutdown()
                throw error
            }
        }

        private func stream(_ request: HTTPClientRequest, http: HTTPClient) async throws {
            let response = try await http.execute(request, timeout: .hours(24 * 365))
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw CLIError("event server: HTTP \(response.status.code): \((try? JSONValue.parse(Array(buffer: body)))?["message"]?.stringValue ?? String(buffer: body))")
            }
            var pending: [UInt8] = []
            for try await chunk in response.body {
                pending += chunk.readableBytesView
                var start = pending.startIndex
                defer { pending.removeFirst(start) }  // once per chunk, not once per line
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[start..<newline]
                    start = newline + 1
                    guard !line.isEmpty else { continue }
                    if envelope {
                        printFlushed(String(decoding: line, as: UTF8.self))
                    } else if let event = (try? JSONValue.parse(line))?["clientEvent"] {
                        printFlushed(String(decoding: event.serialized(sortingKeys: false), as: UTF8.self))
                    }
                }
            }
        }
    }

    struct Queries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "queries", abstract: "The query log of a deployment (topic apinode-query, routed by the deployment's name).")

        @Argument(help: "The deployment (its routing key).")
        var deployment: String

        @OptionGroup var source: Source

        func run() async throws { try await source.print(topic: "apinode-query", routingKey: deployment) }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit", abstract: "The deployer's audit trail: API writes and rollout transitions (topic deployer-audit).",
            discussion: "A deployer without --audit-event-server keeps the same events as JSON lines under DATA/audit/deployer-audit/.")

        @Option(help: "The routing key the deployer uses (its --audit-routing-key).")
        var routingKey = "deployer"

        @OptionGroup var source: Source

        func run() async throws { try await source.print(topic: "deployer-audit", routingKey: routingKey) }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "events", abstract: "The events of any topic and routing key.")

        @Option(help: "The topic.")
        var topic: String

        @Option(help: "The routing key.")
        var routingKey = "default"

        @OptionGroup var source: Source

        func run() async throws { try await source.print(topic: topic, routingKey: routingKey) }
    }
}
