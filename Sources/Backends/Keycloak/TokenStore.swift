import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The signed-in operator's tokens between runs: one file per Keycloak, realm and client under
/// `$XDG_STATE_HOME/tollgate/tokens/` (default `~/.local/state/tollgate/tokens/`), the folder 0700
/// and the file 0600, written atomically. A file others could read is refused, as ssh refuses a
/// private key. Tokens are never logged nor audited.
public struct TokenStore: Sendable {
    public let path: String

    public init(settings: KeycloakSettings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let id = SHA256.hash(data: Data("\(settings.issuer())|\(settings.client)".utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        path = StateFolder.path(environment: environment) + "/tokens/\(id).json"
    }

    /// The stored tokens; nil when there are none.
    public func load() throws(ValidationError) -> TokenSet? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ValidationError(field: "token file", value: path, rule: "has mode \(String(format: "%04o", mode)): it must be readable by its owner alone (chmod 600, or tollgate login again)")
        }
        guard let data = FileManager.default.contents(atPath: path), let tokens = try? JSONDecoder().decode(TokenSet.self, from: data) else { return nil }
        return tokens
    }

    public func save(_ tokens: TokenSet) throws(BackendError) {
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw .failed("cannot create \(folder): \(error.localizedDescription)")
        }
        chmod(folder, 0o700)
        guard let data = try? JSONEncoder().encode(tokens) else { throw .failed("cannot encode the tokens") }
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .failed("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .failed("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Forgets the tokens; true when there were some.
    @discardableResult
    public func remove() -> Bool { unlink(path) == 0 }
}
