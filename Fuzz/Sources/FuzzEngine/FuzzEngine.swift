import SolventFuzzing

/// libFuzzer entry: the engine's decoder and apply (SolventFuzzing.EngineFuzzer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    EngineFuzzer.run(bytes)
    return 0
}
