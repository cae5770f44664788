#include "testhelper.h"
int main(void) { return gort_test_summary(); }
