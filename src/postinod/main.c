#include <stdio.h>
int main(void) { puts("postino " POSTINO_VERSION); return 0; }
