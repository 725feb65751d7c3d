import Foundation

extension Process {
    /// Waits for the child and returns its exit status (128 + the signal when a signal ended it).
    /// The child is reaped here with `waitpid`: where the kernel has no pidfd `waitid`,
    /// swift-subprocess (Python workers, credential plugins) takes over SIGCHLD for the whole
    /// process and Foundation never learns that its own children exited, so `waitUntilExit` and
    /// `terminationHandler` would wait for ever. Blocking: call it off the cooperative pool.
    public func waitForExitStatus() -> Int32 {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(processIdentifier, &status, 0)
            if reaped == processIdentifier { break }
            if reaped == -1, errno == EINTR { continue }
            // Foundation reaped it first and knows how it ended.
            waitUntilExit()
            return terminationReason == .uncaughtSignal ? 128 + terminationStatus : terminationStatus
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
