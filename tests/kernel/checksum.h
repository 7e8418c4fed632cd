/* A checksum of a byte range (FNV-1a): the tests take one of arena objects
 * before a deliberate collision and compare after it, to see whether the
 * stack wrote them. */
#ifndef TANDEM_TESTS_CHECKSUM_H
#define TANDEM_TESTS_CHECKSUM_H

#include <stdint.h>

static inline uint32_t
checksum(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif
