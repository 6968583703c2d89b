// zlib (inflate and crc32), for reading gzip files. Reached from Swift only through
// Sources/Awesomegrad/Data/Zlib.swift.
#ifndef AWESOMEGRAD_ZLIB_SHIM_H
#define AWESOMEGRAD_ZLIB_SHIM_H

#include <zlib.h>

#endif  // AWESOMEGRAD_ZLIB_SHIM_H
