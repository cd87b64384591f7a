import Foundation

/// Child processes for tests, with posix_spawn and waitpid: Foundation's `Process` can miss the
/// exit of a child killed at once and hang in `waitUntilExit`.
public enum Child {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts a program with stdin from /dev/null, stdout and stderr to files and no other file of
    /// this process; `wait` reaps it.
    /// `group`: in a process group of its own, so `kill(-pid, ...)` ends it with its children.
    public static func spawn(_ path: String, _ args: [String], stdout: String = "/dev/null", stderr: String = "/dev/null",
                             group: Bool = false) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if group {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of this process goes along: a tmux server outlives its test, and a socket
        // it held open would keep the test's connections alive after they were closed.
        _ = closeFrom(&actions, 3)
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(path): error \(rc)") }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module leaves out
    /// (it is declared only under _GNU_SOURCE).
    private static let closeFrom = unsafeBitCast(
        dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"),
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)

    /// Reaps `pid` on a thread of its own, so a test waiting for a slow program leaves Swift's
    /// pool (a thread per core) to the tests that run beside it.
    public static func exit(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { done in Thread { done.resume(returning: wait(pid)) }.start() }
    }

    /// Reaps `pid`: its exit status, or 128 + the signal that ended it.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}
