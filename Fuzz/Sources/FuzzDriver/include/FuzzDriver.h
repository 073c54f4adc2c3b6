#ifndef SOLVENT_FUZZ_DRIVER_H
#define SOLVENT_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>
/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs `callback` on each input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
