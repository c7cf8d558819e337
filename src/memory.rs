//! Handing freed heap memory back to the system.
//!
//! glibc keeps the pages it gets for the heap even once everything on them
//! is freed, so a large passing allocation (parsing a config of ten
//! thousand users, a speech decoder of 95 MB given back) would stay in the
//! process's resident memory. [`give_back`] returns what is free.

/// Return free heap memory to the system (glibc's `malloc_trim`); nothing
/// elsewhere. Costs a walk over the allocator's free lists: call it after
/// a large free, not in a loop.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and releases the allocator's own free
    // memory; it takes no pointers of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}
