import FuzzDriver
import SolventFuzzing

/// The executable's entry (SwiftPM names an executable module's entry `<module>_main`): hands
/// control to libFuzzer's driver with the evaluate harness (SolventFuzzing.EvaluateFuzzer).
@_cdecl("FuzzEvaluate_main")
func fuzzEvaluateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        EvaluateFuzzer.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}

/// libFuzzer's conventional entry, which its archive refers to.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzEvaluateTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    EvaluateFuzzer.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
