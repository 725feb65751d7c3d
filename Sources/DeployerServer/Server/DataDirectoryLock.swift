#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive lock on a data directory (`flock` on `DIR/lock`), so that one process at a time
/// opens its store. The kernel drops it when the process dies, however it dies.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, or fails at once naming the process that holds it.
    public init(directory: URL) throws {
        let path = directory.appendingPathComponent("lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw DataDirectoryLockError.cannotOpen(path, errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw DataDirectoryLockError.inUse(directory.path, holder: holder ?? "")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

/// Why a data directory could not be locked.
public enum DataDirectoryLockError: Error, CustomStringConvertible {
    case cannotOpen(String, errno: Int32)
    case inUse(String, holder: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
        case .inUse(let directory, let holder):
            "data directory \(directory) is in use by another apideployer process\(holder.isEmpty ? "" : " (pid \(holder))"); one process serves a data directory at a time"
        }
    }
}
