/* A stand-in for libnvidia-ml.so: the same devices as fake_cuda.c, each with 1 GiB in use. */
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned long long total, free, used; } Memory;
static const char* kNames[] = {"NVIDIA H100 80GB HBM3", "NVIDIA A10"};
static const unsigned long long kMem[] = {85520809984ULL, 23609475072ULL};
static int devices[2] = {0, 1};

static unsigned Count(void) {
  const char* v = getenv("FAKE_CUDA_DEVICES");
  int n = v ? atoi(v) : 2;
  return (unsigned)(n < 0 ? 0 : n > 2 ? 2 : n);
}
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlSystemGetDriverVersion(char* v, unsigned len) {
  if (len < 10) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  strcpy(v, "550.54.15");
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned* n) { *n = Count(); return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** dev) {
  if (i >= Count()) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *dev = &devices[i];
  return 0;
}
int nvmlDeviceGetName(void* dev, char* name, unsigned len) {
  int i = *(int*)dev;
  if (len == 0) return 7;
  strncpy(name, kNames[i], len - 1);
  name[len - 1] = 0;
  return 0;
}
int nvmlDeviceGetMemoryInfo(void* dev, Memory* m) {
  int i = *(int*)dev;
  m->total = kMem[i];
  m->used = 1ULL << 30;
  m->free = m->total - m->used;
  return 0;
}
