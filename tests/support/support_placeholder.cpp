// Keeps the test support library non-empty while its parts are added.
namespace spike_bootstrap::testing {
int supportLibraryAnchor() { return 0; }
}  // namespace spike_bootstrap::testing
