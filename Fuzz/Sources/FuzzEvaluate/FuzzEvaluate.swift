import SolventFuzzing

/// libFuzzer entry: the evaluate decoder and evaluator (SolventFuzzing.EvaluateFuzzer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvaluate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    EvaluateFuzzer.run(bytes)
    return 0
}
