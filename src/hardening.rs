//! Secrets stay in this process's memory: case keys, tokens, client
//! secrets and passphrases must not reach a core file, nor be read out of
//! the process by another one the same user runs (a debugger, or anything
//! reading `/proc/PID/mem`). Set once at start, before any secret is held,
//! for every command.

/// Turns core dumps off (a zero limit, hard and soft, so a child cannot
/// raise it) and marks the process not dumpable, which also keeps other
/// processes of the same user from attaching to it. What could not be set
/// is returned, for the log.
pub fn keep_secrets_in_memory() -> Vec<String> {
    let mut failed = Vec::new();
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct it is given, which lives across
    // the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
        failed.push(format!(
            "core dumps stay allowed: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: PR_SET_DUMPABLE takes plain integers and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        failed.push(format!(
            "the process stays dumpable: {}",
            std::io::Error::last_os_error()
        ));
    }
    failed
}

/// Whether the process is protected now: (core limit is zero, not
/// dumpable). For `doctor` and the tests.
pub fn protected() -> (bool, bool) {
    let mut limit = libc::rlimit {
        rlim_cur: 1,
        rlim_max: 1,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let no_core = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } == 0
        && limit.rlim_cur == 0
        && limit.rlim_max == 0;
    // SAFETY: PR_GET_DUMPABLE takes no pointer.
    let not_dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } == 0;
    (no_core, not_dumpable)
}
