/// Decimals as exact text: the unscaled value is a two's-complement big-endian integer of any
/// length, so it is converted digit by digit, never through a Double.
extension JSONWriter {
    /// A JSON string such as `"-123.45"`: the unscaled integer in `bytes` with `scale` digits
    /// after the point (`"0.005"`, `"0.00"`; no point when the scale is 0). Empty bytes are 0.
    /// `magnitudeLimit` bounds the bytes of the integer's magnitude: the caller passes what the
    /// schema's precision allows, so a hostile length cannot make the quadratic conversion slow.
    mutating func decimal(_ bytes: UnsafeBufferPointer<UInt8>, scale: Int, magnitudeLimit: Int) -> Bool {
        let negative = (bytes.first ?? 0) >= 0x80
        // The magnitude, big-endian: for a negative number, invert and add one (the carry cannot
        // run out: the inverted first byte is below 0x80).
        var magnitude = negative ? bytes.map { ~$0 } : Array(bytes)
        if negative {
            for index in magnitude.indices.reversed() {
                magnitude[index] &+= 1
                if magnitude[index] != 0 { break }
            }
        }
        let significant = magnitude.drop { $0 == 0 }
        guard significant.count <= magnitudeLimit else { return false }
        let digits = Self.decimalDigits(significant)
        output.append(UInt8(ascii: "\""))
        if negative { output.append(UInt8(ascii: "-")) }
        if digits.count > scale {
            output.append(contentsOf: digits[..<(digits.count - scale)])
        } else {
            output.append(UInt8(ascii: "0"))
        }
        if scale > 0 {
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, scale - digits.count)))
            output.append(contentsOf: digits.suffix(min(scale, digits.count)))
        }
        output.append(UInt8(ascii: "\""))
        return true
    }

    /// The decimal digits of an unsigned big-endian integer ("0" for none), by repeated division
    /// by 10^9 of its 32-bit limbs.
    static func decimalDigits(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        if bytes.count <= 8 {
            return Array(String(bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }).utf8)
        }
        var limbs: [UInt32] = []  // most significant first
        limbs.reserveCapacity(bytes.count / 4 + 1)
        let head = bytes.count % 4
        if head > 0 { limbs.append(bytes.prefix(head).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) }
        var index = bytes.startIndex + head
        while index < bytes.endIndex {
            limbs.append(bytes[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            index += 4
        }
        var chunks: [UInt32] = []  // base 10^9, least significant first
        var start = 0
        while start < limbs.count {
            var remainder: UInt64 = 0
            for position in start..<limbs.count {
                let current = remainder << 32 | UInt64(limbs[position])
                limbs[position] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while start < limbs.count, limbs[start] == 0 { start += 1 }
        }
        var writer = JSONWriter()
        writer.unsigned(UInt64(chunks.last ?? 0))
        for chunk in chunks.dropLast().reversed() { writer.unsigned(UInt64(chunk), width: 9) }
        return writer.output
    }

    /// The most magnitude bytes a decimal of `precision` digits needs: ceil(precision · log2(10) / 8).
    static func decimalMagnitudeLimit(precision: Int) -> Int {
        (Int((Double(precision) * 3.321_928_094_887_362).rounded(.up)) + 7) / 8
    }
}
