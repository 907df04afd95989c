/* The node's sandbox ("pause") image: holds a pod's namespaces and does nothing.
 * Built static by scripts/build-image (pause) and packed as a one-file image. */
#include <signal.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }

int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  for (;;) pause();
}
