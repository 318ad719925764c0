import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// How long a client may take over each part of a request before its connection is dropped.
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From a request's first byte to the end of its headers.
    public var header: Duration
    /// From the end of the headers to the end of the body.
    public var body: Duration
    /// A kept-alive connection without a request (also a request whose headers never end).
    public var idle: Duration

    public init(header: Duration = .seconds(10), body: Duration = .seconds(60), idle: Duration = .seconds(60)) {
        self.header = header
        self.body = body
        self.idle = idle
    }
}

/// HTTP/1.1 as Hummingbird serves it, with deadlines: a client that stalls in its headers or
/// its body is answered 408 and disconnected, and an idle kept-alive connection is closed, so
/// that slow or silent clients cannot hold every descriptor.
struct DeadlineHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let timeouts: ConnectionTimeouts

    init(responder: @escaping HTTPChannelHandler.Responder, timeouts: ConnectionTimeouts) {
        inner = HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(timeouts.idle)))
        self.timeouts = timeouts
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timeouts = self.timeouts
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Hummingbird's setup ran synchronously on the channel's loop; so does this.
            let clock = RequestClock(timeouts: timeouts)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(RawBytesWatch(clock: clock), position: .first)
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(RequestPartsWatch(clock: clock), position: .before(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// One connection's request phase and its deadline, shared by the two watches. Lives on the
/// channel's event loop. One timer at most is pending: when it fires it checks the phase
/// then current and re-arms for that phase's deadline, so a kept-alive connection's quick
/// requests schedule no timer each.
final class RequestClock {
    enum Phase { case waiting, head, body, handling }

    let timeouts: ConnectionTimeouts
    private(set) var phase = Phase.waiting
    private var phaseStart = NIODeadline.now()
    var responseStarted = false
    private var timer: Scheduled<Void>?
    /// The raw end of the pipeline, for a 408 written before Hummingbird's encoder.
    var raw: ChannelHandlerContext?

    init(timeouts: ConnectionTimeouts) { self.timeouts = timeouts }

    private func limit(_ phase: Phase) -> Duration? {
        switch phase {
        case .head: timeouts.header
        case .body: timeouts.body
        case .waiting, .handling: nil
        }
    }

    func enter(_ phase: Phase, on loop: any EventLoop) {
        self.phase = phase
        guard let limit = limit(phase) else { return }
        phaseStart = .now()
        if timer == nil { arm(at: phaseStart + TimeAmount(limit), on: loop) }
    }

    private func arm(at deadline: NIODeadline, on loop: any EventLoop) {
        timer = loop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let limit = limit(phase) else { return }
            let deadline = phaseStart + TimeAmount(limit)
            if NIODeadline.now() < deadline {
                arm(at: deadline, on: loop)
            } else {
                expire(phase == .head ? "the request headers" : "the request body", limit: limit)
            }
        }
    }

    func cancel() {
        timer?.cancel()
        timer = nil
    }

    /// Answers 408 when no response has begun, then closes the connection.
    private func expire(_ what: String, limit: Duration) {
        guard let raw else { return }
        guard !responseStarted else {
            raw.close(promise: nil)
            return
        }
        let body = #"{"error":"\#(what) did not arrive within \#(limit.components.seconds) s; closing the connection"}"# + "\n"
        let text =
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n" + body
        raw.writeAndFlush(NIOAny(raw.channel.allocator.buffer(string: text))).assumeIsolated().whenComplete { _ in
            raw.close(promise: nil)
        }
    }
}

/// Before the HTTP decoder: the first byte of a request starts the header deadline.
final class RawBytesWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let clock: RequestClock

    init(clock: RequestClock) { self.clock = clock }

    func handlerAdded(context: ChannelHandlerContext) { clock.raw = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.cancel()
        clock.raw = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if clock.phase == .waiting, unwrapInboundIn(data).readableBytes > 0 {
            clock.enter(.head, on: context.eventLoop)
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.cancel()
        context.fireChannelInactive()
    }
}

/// After the HTTP decoder: a request's head ends the header deadline and starts the body's;
/// its end stops the clock until the response is written.
final class RequestPartsWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    let clock: RequestClock

    init(clock: RequestClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            clock.responseStarted = false
            clock.enter(.body, on: context.eventLoop)
        case .body:
            break
        case .end:
            clock.enter(.handling, on: context.eventLoop)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: clock.responseStarted = true
        case .body: break
        case .end: clock.enter(.waiting, on: context.eventLoop)
        }
        context.write(data, promise: promise)
    }
}
