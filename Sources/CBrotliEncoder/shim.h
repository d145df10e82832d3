// Debian's libbrotli-dev: the one-shot encoder (BrotliEncoderCompress).
#include <brotli/encode.h>
