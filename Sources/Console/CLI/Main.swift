import ArgumentParser
import Foundation
import Backends
import CMalloc
#if canImport(Glibc)
import Glibc
#endif

extension Tollgate {
    /// Runs the command and maps every failure to the documented exit codes: 0 ok, 1 failure,
    /// 2 bad usage or input, 3 conflict, 4 permission denied, 5 backend unavailable.
    static func main() async {
        // A store that drops the connection must give an error to report, not end the process
        // before an action's outcome is known.
        signal(SIGPIPE, SIG_IGN)
        tg_return_freed_memory()   // CMalloc/shim.h: freed memory goes back to the system
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            fail(failure.message, failure.code.rawValue)
        } catch let error as BackendError {
            fail(error.description, CLIFailure.Code(error).rawValue)
        } catch let error as Backends.ValidationError {
            fail(error.description, CLIFailure.Code.usage.rawValue)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            // Everything ArgumentParser refuses is bad usage.
            fail(fullMessage(for: error).replacingOccurrences(of: "Error: ", with: ""), CLIFailure.Code.usage.rawValue)
        }
    }

    private static func fail(_ message: String, _ code: Int32) -> Never {
        var stderr = StandardError()
        // Line breaks of our own messages stay; every line is sanitised.
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.clean(String($0)) }
        print("tollgate: " + lines.joined(separator: "\n"), to: &stderr)
        Glibc.exit(code)
    }
}

extension CLIFailure.Code {
    init(_ error: BackendError) {
        switch error {
        case .unavailable, .replyLost: self = .unavailable
        case .conflict: self = .conflict
        case .denied: self = .denied
        case .notFound, .failed: self = .failure
        }
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }
}
