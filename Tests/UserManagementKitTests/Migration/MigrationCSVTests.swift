import Testing

@testable import UserManagementKit

@Suite("Migration: CSV")
struct MigrationCSVTests {
  @Test func readsQuotedFieldsDoubledQuotesAndLineBreaks() {
    let text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",,x\r\n\r\nlast,row"
    let table = CSV.read(Array(text.utf8))
    #expect(table.failure == nil)
    #expect(
      table.records == [
        CSV.Record(line: 1, fields: ["a", "b,c", "say \"hi\""]),
        CSV.Record(line: 2, fields: ["two\nlines", "", "x"]),
        CSV.Record(line: 5, fields: ["last", "row"]),
      ])
  }

  @Test func skipsAByteOrderMarkAndKeepsEmptyTrailingFields() {
    let table = CSV.read([0xEF, 0xBB, 0xBF] + Array("a,\n,b\n".utf8))
    #expect(table.records.map(\.fields) == [["a", ""], ["", "b"]])
  }

  @Test(arguments: [
    ("a,\"open\n", 1, "a quoted field is never closed"),
    ("ok\nx,\"a\"b\n", 2, "text follows a closing quote"),
    ("ok\nx,a\"b\n", 2, "a quote inside an unquoted field"),
    ("a\rb\n", 1, "a carriage return without a line feed"),
  ])
  func stopsAtAMalformedRecord(text: String, line: Int, reason: String) {
    let table = CSV.read(Array(text.utf8))
    #expect(table.failure == CSV.Failure(line: line, reason: reason))
    #expect(table.records.count == line - 1)
  }

  @Test func refusesAFieldThatIsNotUTF8() {
    let table = CSV.read(Array("a,".utf8) + [0xFF] + Array("\n".utf8))
    #expect(table.failure?.reason == "a field is not valid UTF-8")
  }
}
