/// How long a key waits before it is retried. Times are offsets from the queue's start, so
/// the limiters are pure values tested without a clock.
public protocol RateLimiter: Sendable {
    /// The delay before `key`'s next attempt; counts one more failure of it.
    mutating func delay(for key: String, now: Duration) -> Duration
    /// Resets `key`'s failure count (it succeeded, or its work changed).
    mutating func forget(_ key: String)
    /// Consecutive failures counted for `key`.
    func failures(of key: String) -> Int
}

/// Per-key exponential backoff: `base × 2^failures`, at most `cap` (client-go's
/// `ItemExponentialFailureRateLimiter`; defaults 5 ms and 1000 s).
public struct ExponentialFailureRateLimiter: RateLimiter {
    public let base: Duration
    public let cap: Duration
    private var counts: [String: Int] = [:]

    public init(base: Duration = .milliseconds(5), cap: Duration = .seconds(1000)) {
        self.base = base
        self.cap = cap
    }

    public mutating func delay(for key: String, now: Duration) -> Duration {
        let failures = counts[key, default: 0]
        counts[key] = failures + 1
        // 2^failures overflows nothing here: past 40 doublings of 5 ms the cap has long applied.
        guard failures < 40 else { return cap }
        return min(cap, base * Int(1 << failures))
    }

    public mutating func forget(_ key: String) { counts[key] = nil }

    public func failures(of key: String) -> Int { counts[key, default: 0] }
}

/// One token bucket shared by every key (golang.org/x/time/rate's `Reserve`): `rate` tokens per
/// second, at most `burst` saved; a retry that finds no token waits for the next one.
public struct TokenBucketRateLimiter: RateLimiter {
    public let rate: Double
    public let burst: Int
    private var tokens: Double
    private var updated: Duration = .zero

    public init(rate: Double = 10, burst: Int = 100) {
        self.rate = rate
        self.burst = burst
        tokens = Double(burst)
    }

    public mutating func delay(for key: String, now: Duration) -> Duration {
        let elapsed = max(.zero, now - updated)
        updated = max(updated, now)
        tokens = min(Double(burst), tokens + elapsed.seconds * rate)
        tokens -= 1
        return tokens >= 0 ? .zero : .seconds(-tokens / rate)
    }

    public mutating func forget(_ key: String) {}

    public func failures(of key: String) -> Int { 0 }
}

/// The longest delay of several limiters (client-go's `MaxOfRateLimiter`).
public struct MaxOfRateLimiter<First: RateLimiter, Second: RateLimiter>: RateLimiter {
    private var first: First
    private var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public mutating func delay(for key: String, now: Duration) -> Duration {
        max(first.delay(for: key, now: now), second.delay(for: key, now: now))
    }

    public mutating func forget(_ key: String) {
        first.forget(key)
        second.forget(key)
    }

    public func failures(of key: String) -> Int { max(first.failures(of: key), second.failures(of: key)) }
}

extension MaxOfRateLimiter where First == ExponentialFailureRateLimiter, Second == TokenBucketRateLimiter {
    /// client-go's `DefaultTypedControllerRateLimiter`: per-key 5 ms → 1000 s, and 10 qps with a
    /// burst of 100 over all keys.
    public static var controllerDefault: Self { MaxOfRateLimiter(ExponentialFailureRateLimiter(), TokenBucketRateLimiter()) }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
