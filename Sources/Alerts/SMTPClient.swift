import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import WebhookDomain

/// Sends one email per session over SwiftNIO: plain, STARTTLS or implicit TLS, with AUTH PLAIN or
/// LOGIN when a username is set. Certificates are verified against the system store, or against
/// `caFile`. Every reply has a deadline; so does connecting.
public struct SMTPClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tls: String
        public var username: String?
        /// Never logged.
        public var password: String?
        /// AUTH over a connection without TLS; refused (no credentials sent) when false.
        public var allowPlaintextAuth: Bool
        public var from: String
        public var caFile: String?
        public var clientName: String
        public var connectTimeout: Duration
        public var replyTimeout: Duration

        public init(
            host: String, port: Int, tls: String = "none", username: String? = nil, password: String? = nil, allowPlaintextAuth: Bool = false,
            from: String, caFile: String? = nil, clientName: String = ProcessInfo.processInfo.hostName, connectTimeout: Duration = .seconds(10),
            replyTimeout: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.username = username
            self.password = password
            self.allowPlaintextAuth = allowPlaintextAuth
            self.from = from
            self.caFile = caFile
            self.clientName = clientName
            self.connectTimeout = connectTimeout
            self.replyTimeout = replyTimeout
        }
    }

    /// Who the message was accepted for, and who was refused.
    public struct Delivery: Sendable, Equatable {
        public var accepted: [String]
        public var rejected: [String]
    }

    public let configuration: Configuration

    public init(configuration: Configuration) { self.configuration = configuration }

    public func send(_ email: Email) async throws(SMTPError) -> Delivery {
        do {
            return try await session(email)
        } catch let error as SMTPError {
            throw error
        } catch let error as NIOSSLError {
            throw SMTPError(.permanent, "TLS: \(error)")
        } catch {
            throw SMTPError(.transient, "\(error)")
        }
    }

    private func session(_ email: Email) async throws -> Delivery {
        let tls = SMTPConversation.TLSMode(rawValue: configuration.tls) ?? .none
        let sslContext = tls == .none ? nil : try makeSSLContext()
        let serverHostname = configuration.host.first?.isNumber == true || configuration.host.contains(":") ? nil : configuration.host
        // Made on the channel's event loop and only touched there (NIOLoopBound).
        let setup = Mutex<(greeting: EventLoopFuture<SMTPReply>, handler: NIOLoopBound<SMTPClientHandler>)?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if tls == .implicit, let sslContext {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder())
                    let handler = SMTPClientHandler()
                    try channel.pipeline.syncOperations.addHandler(handler)
                    // The greeting is the first reply: wait for it before anything can arrive.
                    let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
                    handler.expectReply(promise)
                    setup.withLock { $0 = (promise.futureResult, NIOLoopBound(handler, eventLoop: channel.eventLoop)) }
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        guard let (greeting, handler) = setup.withLock({ $0 }) else { throw SMTPError(.transient, "connection not set up") }
        let connection = Connection(channel: channel, handler: handler, timeout: configuration.replyTimeout)
        defer { channel.close(promise: nil) }

        var conversation = SMTPConversation(
            tls: tls, clientName: configuration.clientName, username: configuration.username, password: configuration.password,
            allowPlaintextAuth: configuration.allowPlaintextAuth, from: configuration.from, recipients: email.to)
        var reply = try await connection.await(greeting)
        while true {
            switch conversation.next(after: reply) {
            case .send(let command):
                reply = try await connection.send(command + "\r\n")
            case .startTLS:
                guard let sslContext else { throw SMTPError(.permanent, "TLS is not configured") }
                // TLS goes first in the pipeline, under the line framing (the NIOSMTP example's way).
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname), position: .first)
                }.get()
                guard case .send(let command) = conversation.tlsEstablished() else { throw SMTPError(.permanent, "no EHLO after STARTTLS") }
                reply = try await connection.send(command + "\r\n")
            case .sendBody:
                reply = try await connection.send(email.dataPhase)
            case .delivered(let accepted, let rejected):
                _ = try? await connection.send("QUIT\r\n")
                return Delivery(accepted: accepted, rejected: rejected)
            case .fail(let error):
                _ = try? await connection.send("QUIT\r\n")
                throw error
            }
        }
    }

    private func makeSSLContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// Writes and waits for replies with a deadline each, on the channel's event loop.
    private struct Connection {
        let channel: any Channel
        let handler: NIOLoopBound<SMTPClientHandler>
        let timeout: Duration

        func send(_ text: String) async throws -> SMTPReply {
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            channel.eventLoop.execute { [handler, channel] in
                handler.value.expectReply(promise)
                channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
            }
            return try await self.await(promise.futureResult)
        }

        func await(_ future: EventLoopFuture<SMTPReply>) async throws -> SMTPReply {
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.seconds * 1e9))) {
                promise.fail(SMTPError(.transient, "no reply from the SMTP server within \(timeout)"))
            }
            future.whenComplete { result in
                deadline.cancel()
                promise.completeWith(result)
            }
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(SMTPError(.transient, "cancelled"))
            }
        }
    }
}
