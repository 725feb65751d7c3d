import CloudHTTP
import DeployerModel
import Foundation
import Testing

/// The controller killed with SIGKILL at random moments during rollouts of many deployments,
/// then restarted: everything converges, the nodes hold nothing the specs do not explain, and
/// each exec hook ran once per transition, repeated only when a kill landed between its run and
/// its recording (such repeats are counted and reported).
@Suite struct ControllerCrashTests {
    static let deployments = 50
    static let kills = 20

    @Test func killedTwentyTimesDuringFiftyRolloutsOverThreeNodes() async throws {
        let services = (0..<Self.deployments).map { "svc-\($0)" }
        try await DeploymentWorld.with(nodes: 3, services: services) { world in
            let hookLog = world.scratch.url.appendingPathComponent("hooks.log")
            func specs(_ version: String) -> [JSONValue] {
                services.map { service in
                    let hook: JSONValue = [
                        "name": "record",
                        "exec": ["command": ["/bin/sh", "-c", .string("line=$(cat); echo \"$line\" >> \(hookLog.path)")]],
                    ]
                    return DeploymentWorld.deployment(service, service: service, spec: ["version": .string(version), "hooks": ["preDeploy": [hook]]])
                }
            }
            let seed = UInt64(Date().timeIntervalSince1970)
            var random = SplitMix64(seed: seed)
            print("crash test seed \(seed)")
            try await world.apply(specs("v1"))
            for kill in 1...Self.kills {
                // A random moment: somewhere in the middle of the rollouts this kill interrupts.
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...600, using: &random)))
                try await world.restartAfterKill()
                if kill == Self.kills / 3 { try await world.apply(specs("v2")) }
            }
            for service in services { #expect(try await world.wait("Ready", service, timeout: "120s"), "\(service) Ready") }

            for node in world.nodes {
                let listed = try await world.adminCall(node, .GET, "services").arrayValue ?? []
                #expect(Set(listed.compactMap { $0["serviceId"]?.stringValue }) == Set(services), "\(node.name) holds exactly the deployed services")
                for service in services {
                    let served = try await world.served(on: node, service: service)
                    #expect(served?.generations == ["v2"], "\(node.name)/\(service) holds only v2")
                    #expect(served?.mapping?["entries"]?.arrayValue?.compactMap { $0["generation"]?.stringValue } == ["v2"])
                }
            }
            for service in services {
                let object = try await world.deploymentObject(service)
                #expect(object["status"]?["observedGeneration"] == object["metadata"]?["generation"])
            }

            let lines = (try? String(contentsOf: hookLog, encoding: .utf8))?.split(separator: "\n") ?? []
            var runs: [String: Int] = [:]
            var rollouts: [String: [Int64]] = [:]
            for line in lines {
                let input = try JSONValue.parse(String(line))
                let transition = "\(input["deployment"]?.stringValue ?? "")@\(input["generation"]?.intValue ?? 0)"
                runs[transition, default: 0] += 1
                rollouts[transition, default: []].append(input["rolloutID"]?.intValue ?? 0)
            }
            for (transition, count) in runs where count > 2 {
                let history = try await world.deploymentObject(String(transition.split(separator: "@")[0]))["status"]?["history"]
                print("crash test: \(transition) ran \(count) times in rollouts \(rollouts[transition]!): \(String(decoding: history?.serialized() ?? [], as: UTF8.self))")
            }
            let repeats = runs.values.reduce(0) { $0 + $1 - 1 }
            print("crash test: \(lines.count) hook runs over \(runs.count) transitions; \(repeats) repeats, \(runs.values.filter { $0 > 2 }.count) transitions repeated more than once")
            // A repeat happens only when a kill lands between a hook's run and its recording; each
            // kill can interrupt at most as many hooks as may run at once (3), so repeats are
            // bounded by kills × 3. (One transition interrupted by two kills repeats twice.)
            #expect(repeats <= Self.kills * 3, "more repeats than kills can explain: \(runs.filter { $0.value > 1 })")
            for service in services { #expect(runs["\(service)@2"] != nil, "\(service)'s v2 transition ran its hook") }
        }
    }
}
