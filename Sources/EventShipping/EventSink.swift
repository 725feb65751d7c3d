import ServiceLifecycle

/// Something events are handed to without waiting: an event server's shipper, or a local file
/// when there is no event server. Run it as a service; it drains what it holds when it stops.
public protocol EventSink: Service {
    func enqueue(_ event: ShippedEvent)
}

extension EventShipper: EventSink {}
