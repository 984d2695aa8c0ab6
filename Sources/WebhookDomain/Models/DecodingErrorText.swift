/// A `DecodingError` as the API's 400 and the config file's error say it: the field's path
/// (`filter.all[1].eq`) and the problem in a few words.
public enum DecodingErrorText {
    public static func describe(_ error: DecodingError) -> (path: String, problem: String) {
        (field(of: error), problem(of: error))
    }

    static func field(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        return path.reduce("") { name, key in
            if let index = key.intValue { return "\(name)[\(index)]" }
            return name.isEmpty ? key.stringValue : "\(name).\(key.stringValue)"
        }
    }

    static func problem(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, _): "expected \(type == Double.self || type == Int.self ? "a number" : type == Bool.self ? "true or false" : type == String.self ? "a string" : "another type")"
        case .valueNotFound: "must not be null"
        case .keyNotFound(let key, _): "\(key.stringValue) is required"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "invalid"
        }
    }
}
