import NIOCore

/// Splits the server's byte stream into lines (CRLF, or a bare LF), without the line ending.
/// Framing only: what a line means is `SMTPReplyDecoder`'s business.
struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    static let maximumLineLength = 8 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLineLength { throw SMTPError(.permanent, "reply line longer than \(Self.maximumLineLength) bytes") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        context.fireChannelRead(Self.wrapInboundOut(String(buffer: line)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
