// SPDX-License-Identifier: Apache-2.0
//
// CRC-32C for the disk tier's checksums. Every block of a large body is checked as it is sent,
// so the checksum runs at the speed a disk hit is served: the SSE 4.2 instruction does about
// 8 bytes per cycle where a byte-wise table does one, and Swift has no way to reach it without C.

#include "moxy_crc32c.h"

#include <string.h>

static uint32_t table[8][256];

static void build_tables(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t value = index;
        for (int bit = 0; bit < 8; bit++) value = (value & 1) ? (value >> 1) ^ 0x82F63B78u : value >> 1;
        table[0][index] = value;
    }
    for (uint32_t index = 0; index < 256; index++) {
        for (int slice = 1; slice < 8; slice++) {
            uint32_t previous = table[slice - 1][index];
            table[slice][index] = (previous >> 8) ^ table[0][previous & 0xFF];
        }
    }
}

static int tables_ready = 0;

uint32_t moxy_crc32c_update_portable(uint32_t state, const void *bytes, size_t length) {
    // The tables are the same whoever builds them first: a race only builds them twice.
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE)) {
        build_tables();
        __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
    }
    const uint8_t *p = bytes;
    uint32_t crc = state;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;  // little-endian: the running value meets the first four bytes
        crc = table[7][word & 0xFF] ^ table[6][(word >> 8) & 0xFF] ^ table[5][(word >> 16) & 0xFF] ^ table[4][(word >> 24) & 0xFF]
            ^ table[3][(word >> 32) & 0xFF] ^ table[2][(word >> 40) & 0xFF] ^ table[1][(word >> 48) & 0xFF] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t update_sse42(uint32_t state, const uint8_t *p, size_t length) {
    uint64_t crc = state;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = _mm_crc32_u64(crc, word);
        p += 8;
        length -= 8;
    }
    uint32_t rest = (uint32_t)crc;
    while (length--) rest = _mm_crc32_u8(rest, *p++);
    return rest;
}

uint32_t moxy_crc32c_update(uint32_t state, const void *bytes, size_t length) {
    static int has_sse42 = -1;
    int known = __atomic_load_n(&has_sse42, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&has_sse42, known, __ATOMIC_RELAXED);
    }
    return known ? update_sse42(state, bytes, length) : moxy_crc32c_update_portable(state, bytes, length);
}
#else
uint32_t moxy_crc32c_update(uint32_t state, const void *bytes, size_t length) {
    return moxy_crc32c_update_portable(state, bytes, length);
}
#endif
