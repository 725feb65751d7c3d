import Foundation

/// Open connections not in use, reused most-recent first; a query takes one (or opens a new
/// one) and gives it back. The endpoint's admission bounds how many exist at once.
final class IdleConnections<Connection: AnyObject & Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Connection] = []
    private let open: @Sendable () throws -> Connection

    init(open: @escaping @Sendable () throws -> Connection) { self.open = open }

    /// Runs `body` with a connection; one that threw is closed rather than reused.
    func with<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try lock.withLock { idle.popLast() } ?? open()
        let result = try body(connection)
        lock.withLock { idle.append(connection) }
        return result
    }
}
