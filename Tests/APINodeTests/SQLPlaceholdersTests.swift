@testable import APINode
import Testing

/// `:name` parameters become `$n` for PostgreSQL; everything else is left as written.
@Suite struct SQLPlaceholdersTests {
    @Test func namesBecomeNumbersInOrderOfFirstUse() {
        let (sql, names) = SQLPlaceholders.positional("SELECT * FROM t WHERE a = :a AND b = :b_2 OR a2 = :a")
        #expect(sql == "SELECT * FROM t WHERE a = $1 AND b = $2 OR a2 = $1")
        #expect(names == ["a", "b_2"])
    }

    @Test func literalsIdentifiersCommentsAndCastsAreLeftAlone() {
        let source = """
            SELECT ':no' || 'it''s :no', "col:no", x::int, :yes::text -- :no
            FROM t /* :no */ WHERE y = :yes2
            """
        let (sql, names) = SQLPlaceholders.positional(source)
        #expect(names == ["yes", "yes2"])
        #expect(sql == source.replacingOccurrences(of: ":yes::text", with: "$1::text").replacingOccurrences(of: ":yes2", with: "$2"))
    }

    @Test func anUnterminatedLiteralOrCommentEndsTheStatement() {
        #expect(SQLPlaceholders.positional("SELECT ':a").names.isEmpty)
        #expect(SQLPlaceholders.positional("SELECT /* :a").names.isEmpty)
        #expect(SQLPlaceholders.positional("SELECT :").sql == "SELECT :")
    }
}
