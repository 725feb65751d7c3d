/// Rewrites a statement's `:name` parameters to PostgreSQL's `$1`, `$2`, … (one number per
/// name, in order of first use), leaving string literals, quoted identifiers, comments and `::`
/// casts alone.
enum SQLPlaceholders {
    static func positional(_ sql: String) -> (sql: String, names: [String]) {
        let characters = Array(sql.unicodeScalars)
        var output = String.UnicodeScalarView()
        var names: [String] = []
        var index = 0
        func copy(until end: Int) {
            output.append(contentsOf: characters[index..<min(end, characters.count)])
            index = min(end, characters.count)
        }
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "'", "\"":
                // Through the closing quote; a doubled quote stays inside.
                var end = index + 1
                while end < characters.count {
                    if characters[end] == character {
                        if end + 1 < characters.count, characters[end + 1] == character { end += 2; continue }
                        break
                    }
                    end += 1
                }
                copy(until: end + 1)
            case "-" where next == "-":
                copy(until: characters[index...].firstIndex(of: "\n") ?? characters.count)
            case "/" where next == "*":
                var end = index + 2
                while end + 1 < characters.count, !(characters[end] == "*" && characters[end + 1] == "/") { end += 1 }
                copy(until: end + 2)
            case ":" where next == ":":
                copy(until: index + 2)
            case ":" where next.map(isNameStart) == true:
                var end = index + 1
                while end < characters.count, isNamePart(characters[end]) { end += 1 }
                let name = String(String.UnicodeScalarView(characters[(index + 1)..<end]))
                if !names.contains(name) { names.append(name) }
                output.append(contentsOf: "$\(names.firstIndex(of: name)! + 1)".unicodeScalars)
                index = end
            default:
                output.append(character)
                index += 1
            }
        }
        return (String(output), names)
    }

    private static func isNameStart(_ character: Unicode.Scalar) -> Bool { character == "_" || (character.isASCII && character.properties.isAlphabetic) }
    private static func isNamePart(_ character: Unicode.Scalar) -> Bool {
        isNameStart(character) || ("0"..."9").contains(character)
    }
}
