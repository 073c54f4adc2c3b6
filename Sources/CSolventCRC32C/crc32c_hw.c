// Hardware CRC-32C with the SSE 4.2 `crc32` instruction. Only the functions below carry the
// target attribute, so the rest of the program runs on any x86-64; the caller checks
// `solvent_crc32c_hw_available()` first and falls back to the table (Swift, CRC32C.swift).
//
// The instruction has a latency of three cycles and a throughput of one per cycle, so three
// independent streams run over three adjacent blocks and are combined: the register of A‖B is
// shift_|B|(register of A) xor register of B started at 0 (the CRC is linear over GF(2)); the
// shift by a fixed number of zero bytes is a 32×32 GF(2) matrix applied byte-wise through four
// 256-entry tables. After Mark Adler's crc32c.c (https://stackoverflow.com/a/17646775, zlib
// licence).

#include "solvent_crc32c.h"

#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)

#include <cpuid.h>
#include <nmmintrin.h>
#include <pthread.h>

#define SOLVENT_CRC32C_POLY 0x82F63B78u
#define SOLVENT_CRC32C_LONG 8192
#define SOLVENT_CRC32C_SHORT 256

static uint32_t crc32c_long[4][256];
static uint32_t crc32c_short[4][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_matrix_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_matrix_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_matrix_times(mat, mat[n]);
}

// The operator that appends `length` zero bytes (a power of two) to a register.
static void crc32c_zeros_op(uint32_t *even, size_t length) {
    uint32_t odd[32];
    odd[0] = SOLVENT_CRC32C_POLY; // one zero bit
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd); // two zero bits
    gf2_matrix_square(odd, even); // four zero bits
    do {
        gf2_matrix_square(even, odd); // first pass: one zero byte
        length >>= 1;
        if (length == 0) return;
        gf2_matrix_square(odd, even);
        length >>= 1;
    } while (length);
    for (int n = 0; n < 32; n++) even[n] = odd[n];
}

static void crc32c_zeros(uint32_t zeros[][256], size_t length) {
    uint32_t op[32];
    crc32c_zeros_op(op, length);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_matrix_times(op, n);
        zeros[1][n] = gf2_matrix_times(op, n << 8);
        zeros[2][n] = gf2_matrix_times(op, n << 16);
        zeros[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static void crc32c_init(void) {
    crc32c_zeros(crc32c_long, SOLVENT_CRC32C_LONG);
    crc32c_zeros(crc32c_short, SOLVENT_CRC32C_SHORT);
}

static inline uint32_t crc32c_shift(uint32_t zeros[][256], uint32_t crc) {
    return zeros[0][crc & 0xFF] ^ zeros[1][(crc >> 8) & 0xFF] ^ zeros[2][(crc >> 16) & 0xFF] ^ zeros[3][crc >> 24];
}

int solvent_crc32c_hw_available(void) {
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

__attribute__((target("sse4.2")))
static inline uint64_t step64(uint64_t crc, const uint8_t *p) {
    return _mm_crc32_u64(crc, load64(p));
}

__attribute__((target("sse4.2")))
static inline uint64_t step8(uint64_t crc, uint8_t byte) {
    return _mm_crc32_u8((uint32_t)crc, byte);
}

// Three streams over blocks of `3 × block` bytes while they last.
__attribute__((target("sse4.2")))
static inline uint64_t crc32c_triple(uint64_t crc0, const uint8_t **next, size_t *length, size_t block, uint32_t zeros[][256]) {
    const uint8_t *p = *next;
    size_t n = *length;
    while (n >= block * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *end = p + block;
        do {
            crc0 = step64(crc0, p);
            crc1 = step64(crc1, p + block);
            crc2 = step64(crc2, p + 2 * block);
            p += 8;
        } while (p < end);
        crc0 = crc32c_shift(zeros, (uint32_t)crc0) ^ crc1;
        crc0 = crc32c_shift(zeros, (uint32_t)crc0) ^ crc2;
        p += 2 * block;
        n -= 3 * block;
    }
    *next = p;
    *length = n;
    return crc0;
}

__attribute__((target("sse4.2")))
uint32_t solvent_crc32c_hw_advance(uint32_t state, const uint8_t *bytes, size_t length) {
    const uint8_t *next = bytes;
    uint64_t crc0 = state;
    if (length >= 3 * SOLVENT_CRC32C_SHORT) {
        pthread_once(&crc32c_once, crc32c_init);
        crc0 = crc32c_triple(crc0, &next, &length, SOLVENT_CRC32C_LONG, crc32c_long);
        crc0 = crc32c_triple(crc0, &next, &length, SOLVENT_CRC32C_SHORT, crc32c_short);
    }
    const uint8_t *end = next + (length - (length & 7));
    while (next < end) {
        crc0 = step64(crc0, next);
        next += 8;
    }
    length &= 7;
    while (length) {
        crc0 = step8(crc0, *next);
        next++;
        length--;
    }
    return (uint32_t)crc0;
}

#else

int solvent_crc32c_hw_available(void) { return 0; }

uint32_t solvent_crc32c_hw_advance(uint32_t state, const uint8_t *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return state; // never called: solvent_crc32c_hw_available() is 0 here
}

#endif
