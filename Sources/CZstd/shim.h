// Debian's libzstd-dev: the one-shot compressor (ZSTD_compress).
#include <zstd.h>
