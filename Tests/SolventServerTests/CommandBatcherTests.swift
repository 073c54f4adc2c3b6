import Foundation
import SolventCore
import SolventServer
import Testing

@Suite struct CommandBatcherTests {
    /// 200 concurrent writers, one malformed command and one repeated key among them: each
    /// caller gets its own answer, every good command is applied exactly once, the malformed
    /// one changes nothing, and the journal order is a permutation of the arrivals.
    @Test func concurrentWritersGetTheirOwnAnswers() async throws {
        let f = try await Fixture()
        let batcher = CommandBatcher(engine: f.engine, metrics: ServiceMetrics(), maximumBatch: 16)
        let outcomes = await withTaskGroup(of: (Int, Result<CommandBatcher.Result, any Error>).self) { group in
            for k in 0..<200 {
                group.addTask {
                    let text = k == 77 ? #"{"type":"deposit","account":"a7","asset":"USDT","amount":"-x"}"#
                                       : #"{"type":"deposit","account":"a\#(k % 10)","asset":"USDT","amount":"1"}"#
                    let key = k == 150 ? "k-149" : "k-\(k)"
                    do { return (k, .success(try await batcher.submit(try CommandRequest.decode(JSONParser.parse(Array(text.utf8)), key: key)))) } catch { return (k, .failure(error)) }
                }
            }
            var all: [Int: Result<CommandBatcher.Result, any Error>] = [:]
            for await (k, outcome) in group { all[k] = outcome }
            return all
        }
        var sequences: Set<Int64> = []
        for k in 0..<200 {
            switch outcomes[k]! {
            case .success(let result):
                #expect(k != 77, "the malformed command was accepted")
                if k == 149 || k == 150 {
                    sequences.insert(result.sequence)  // one of the two is the duplicate of the other
                } else {
                    #expect(!result.duplicate)
                    #expect(sequences.insert(result.sequence).inserted, "sequence \(result.sequence) given twice")
                    #expect(result.kinds.contains("deposited"))
                }
            case .failure(let error):
                #expect(k == 77, "command \(k) failed: \(error)")
                #expect((error as? InputError)?.path == "command.amount")
            }
        }
        let duplicates = [149, 150].compactMap { k -> Bool? in if case .success(let r)? = outcomes[k] { return r.duplicate } else { return nil } }
        #expect(duplicates.count == 2 && duplicates.filter { $0 }.count == 1, "exactly one of the repeated key's commands applies")
        // 198 distinct deposits of 1 (200 minus the malformed one minus the repeat).
        #expect(await f.engine.commandsApplied == 198)
        var total = 0
        for a in 0..<10 {
            let json = try JSONParser.parse(Array((await f.engine.account("a\(a)")?.json ?? "{}").utf8))
            if case .string(let balance)? = json["state"]?["balances"]?["USDT"] { total += Int(balance) ?? 0 }
        }
        #expect(total == 198)
    }
}
