/* A stand-in for Windows' bcryptprimitives.dll, which Rust's standard library imports for
 * ProcessPrng and Wine 8 lacks: the same function over RtlGenRandom (SystemFunction036 in
 * advapi32). Only for the Wine smoke test (tests/wine-smoke.sh builds it with mingw-w64). */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk))
      return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
