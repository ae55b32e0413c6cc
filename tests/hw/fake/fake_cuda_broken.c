/* A libcuda.so that is present but broken: it exports cuInit and nothing else, as a
 * half-installed or mismatched driver does. Detection must say so, not crash. */
int cuInit(unsigned flags) { (void)flags; return 0; }
