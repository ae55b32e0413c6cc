/* A stand-in for libcuda.so with the driver-API entry points hardware detection calls, so the
 * CUDA path is tested on machines without a GPU. FAKE_CUDA_DEVICES sets the device count
 * (default 2), FAKE_CUDA_FAIL_INIT=1 makes cuInit fail as a broken driver install does. */
#include <stdlib.h>
#include <string.h>

static const char* kNames[] = {"NVIDIA H100 80GB HBM3", "NVIDIA A10"};
static const int kMajor[] = {9, 8}, kMinor[] = {0, 6};
static const unsigned long long kMem[] = {85520809984ULL, 23609475072ULL};

static int Count(void) {
  const char* v = getenv("FAKE_CUDA_DEVICES");
  int n = v ? atoi(v) : 2;
  return n < 0 ? 0 : n > 2 ? 2 : n;
}

int cuInit(unsigned flags) {
  (void)flags;
  const char* fail = getenv("FAKE_CUDA_FAIL_INIT");
  return fail && strcmp(fail, "1") == 0 ? 3 : 0;
}
int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
int cuDeviceGetCount(int* n) { *n = Count(); return 0; }
int cuDeviceGet(int* dev, int ordinal) {
  if (ordinal < 0 || ordinal >= Count()) return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *dev = ordinal;
  return 0;
}
int cuDeviceGetName(char* name, int len, int dev) {
  if (dev < 0 || dev >= Count() || len <= 0) return 101;
  strncpy(name, kNames[dev], (size_t)len - 1);
  name[len - 1] = 0;
  return 0;
}
int cuDeviceGetAttribute(int* value, int attr, int dev) {
  if (dev < 0 || dev >= Count()) return 101;
  if (attr == 75) { *value = kMajor[dev]; return 0; }
  if (attr == 76) { *value = kMinor[dev]; return 0; }
  return 1; /* CUDA_ERROR_INVALID_VALUE */
}
int cuDeviceTotalMem_v2(size_t* bytes, int dev) {
  if (dev < 0 || dev >= Count()) return 101;
  *bytes = (size_t)kMem[dev];
  return 0;
}
int cuDeviceGetPCIBusId(char* bus, int len, int dev) {
  if (dev < 0 || dev >= Count() || len < 13) return 101;
  strcpy(bus, dev == 0 ? "0000:17:00.0" : "0000:65:00.0");
  return 0;
}
