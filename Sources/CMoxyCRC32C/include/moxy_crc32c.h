// SPDX-License-Identifier: Apache-2.0

#ifndef MOXY_CRC32C_H
#define MOXY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Adds `length` bytes to a running CRC-32C (Castagnoli) value `state` (before the final
/// inversion) and returns the new one. Uses the SSE 4.2 `crc32` instruction where the CPU has it,
/// otherwise slicing-by-8 tables; both give the same values.
uint32_t moxy_crc32c_update(uint32_t state, const void *bytes, size_t length);

/// The same computed with the portable tables only (for tests comparing both paths).
uint32_t moxy_crc32c_update_portable(uint32_t state, const void *bytes, size_t length);

#endif
