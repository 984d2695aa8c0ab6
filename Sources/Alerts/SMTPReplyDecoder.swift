import NIOCore

/// Gathers lines into replies: `250-first` … `250 last` is one reply with its lines.
final class SMTPReplyDecoder: ChannelInboundHandler {
    typealias InboundIn = String
    typealias InboundOut = SMTPReply

    private var pending: (code: Int, lines: [String])?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        let characters = Array(line.utf8)
        guard characters.count >= 3, let code = Int(String(decoding: characters.prefix(3), as: UTF8.self)), (200...599).contains(code) else {
            context.fireErrorCaught(SMTPError(.permanent, "not an SMTP reply: \(line.prefix(80))"))
            return
        }
        let separator = characters.count > 3 ? characters[3] : UInt8(ascii: " ")
        let text = characters.count > 4 ? String(decoding: characters.dropFirst(4), as: UTF8.self) : ""
        var reply = pending ?? (code, [])
        reply.lines.append(text)
        if separator == UInt8(ascii: "-") {
            pending = reply
        } else {
            pending = nil
            context.fireChannelRead(wrapInboundOut(SMTPReply(code: reply.code, lines: reply.lines)))
        }
    }
}
