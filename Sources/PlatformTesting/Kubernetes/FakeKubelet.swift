import Foundation

/// What the simulated kubelet is asked to run: the first container of a pod.
public struct FakePodLaunch: Sendable {
    public let pod: String
    public let namespace: String
    public let image: String
    public let command: [String]
    public let args: [String]
    public let environment: [String: String]
}

/// A started container: the loopback port its server listens on, and how to stop it (SIGTERM,
/// then wait for the exit).
public struct FakeContainer: Sendable {
    public let port: Int
    public let stop: @Sendable () async -> Void

    public init(port: Int, stop: @escaping @Sendable () async -> Void) {
        self.port = port
        self.stop = stop
    }
}

/// Why a container did not start: `reason` as a container status shows it (`ErrImagePull`,
/// `CrashLoopBackOff`), and a message.
public struct FakeContainerFailure: Error, Sendable {
    public let reason: String
    public let message: String

    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }
}

/// Starts a pod's container for the fake cluster (tests map images to local processes).
public typealias FakeKubelet = @Sendable (FakePodLaunch) async throws -> FakeContainer
