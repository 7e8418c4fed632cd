// The syscall fuzzer's second process: test_fuzz spawns it so that fuzz
// threads of two processes enter the kernel at once.  The same program as
// user/test_fuzz.c, built with FUZZ_PEER: peer_main instead of the tests.
// Its handles: 1, an endpoint on which it alone receives (test_fuzz calls
// it there once, to swap handle numbers); 2, fault_child's module.
#define FUZZ_PEER 1
#include "test_fuzz.c"
