// Entry point: everything happens in app::runMain.
#include "spike_bootstrap/app/cli.h"

int main(int argc, char** argv) { return spike_bootstrap::app::runMain(argc, argv); }
