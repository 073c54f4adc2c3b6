#ifndef SOLVENT_CRC32C_H
#define SOLVENT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU has the SSE 4.2 CRC32 instruction (x86-64, CPUID leaf 1, ECX bit 20),
/// 0 otherwise (other architectures included): then `solvent_crc32c_hw_advance` must not be called.
int solvent_crc32c_hw_available(void);

/// The CRC-32C (Castagnoli) register after folding `length` bytes at `bytes` into `state`,
/// without the initial or final inversion (the caller applies them), with the SSE 4.2 `crc32`
/// instruction: three independent streams over blocks of 3 × 8192 and 3 × 256 bytes, combined
/// with zero-shift tables (Mark Adler's crc32c.c, zlib licence, 2013). The same value as the
/// table-driven register. Only when `solvent_crc32c_hw_available()` returned 1.
uint32_t solvent_crc32c_hw_advance(uint32_t state, const uint8_t *bytes, size_t length);

#ifdef __cplusplus
}
#endif

#endif
