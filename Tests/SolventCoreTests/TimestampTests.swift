import SolventCore
import Testing

@Suite struct TimestampTests {
    /// ISO 8601 parse and format agree with known epoch values.
    @Test func knownInstants() {
        #expect(Timestamp.parseISO8601("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parseISO8601("2020-03-12T00:00Z") == 1_583_971_200_000)
        #expect(Timestamp.parseISO8601("2024-02-29 12:30:15.250+00:00") == 1_709_209_815_250)
        #expect(Timestamp.parseISO8601("2023-02-29T00:00Z") == nil)
        #expect(Timestamp.parseISO8601("2023-01-01T25:00Z") == nil)
        #expect(Timestamp.formatISO8601(1_709_209_815_250) == "2024-02-29T12:30:15.250Z")
        #expect(Timestamp.formatISO8601(1_583_971_200_000) == "2020-03-12T00:00:00Z")
    }
}
