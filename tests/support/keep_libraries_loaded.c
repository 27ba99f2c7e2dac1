/* Preloaded into the sanitizer test runs (.ci/sanitize.sh): Open MPI dlclose()s its MCA
 * components at MPI_Finalize, after which LeakSanitizer reports their leftover
 * allocations as "<unknown module>" that no suppression can name. Keeping every library
 * mapped lets cmake/lsan.supp match them by library name. */
int dlclose(void* handle) {
    (void)handle;
    return 0;
}
