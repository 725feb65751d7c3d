/// The rules of a controller work queue (client-go's `workqueue`), as a pure value: a key is
/// queued at most once; `take` moves it to *processing*; a key added while it is processing is
/// only marked *dirty* and queued again by `done`, so one key is never processed by two workers
/// at once, and a change made during a reconcile is never missed.
struct WorkQueueState<Key: Hashable> {
    private(set) var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []

    /// Keys waiting to be taken.
    var depth: Int { queue.count - head }

    /// Adds `key`; true if it became ready to take (it was neither queued nor processing).
    mutating func add(_ key: Key) -> Bool {
        guard dirty.insert(key).inserted else { return false }
        if processing.contains(key) { return false }
        queue.append(key)
        return true
    }

    /// The oldest ready key, now processing.
    mutating func take() -> Key? {
        guard head < queue.count else { return nil }
        let key = queue[head]
        head += 1
        if head > 64, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        dirty.remove(key)
        processing.insert(key)
        return key
    }

    /// Processing of `key` ended; true if it was added meanwhile and is ready again.
    mutating func done(_ key: Key) -> Bool {
        processing.remove(key)
        guard dirty.contains(key) else { return false }
        queue.append(key)
        return true
    }

    func isProcessing(_ key: Key) -> Bool { processing.contains(key) }
}
