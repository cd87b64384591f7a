import Backends

/// Command mode's grammar as data: each command, what its argument is, and what it is for. The
/// command line completes from it and `?` lists it.
public enum ConsoleCommand: Equatable, Sendable {
    case tenant(TenantID)
    /// nil: the tenant of the current screen.
    case keys(TenantID?)
    case audit(TenantID?)
    case usage(TenantID?, KeyID?)
    case expiring
    case noisy
    case overview
    case theme(String)
    case context(String)
    case help
    case quit
}

public enum Commands {
    public enum Argument: Sendable { case tenant, theme, context }

    public struct Spec: Sendable {
        public let name: String
        public let aliases: [String]
        public let argument: Argument?
        public let summary: String
        /// The argument may be left out.
        public var optional = false
    }

    public static let all: [Spec] = [
        Spec(name: "tenant", aliases: ["t"], argument: .tenant, summary: "a tenant in detail"),
        Spec(name: "keys", aliases: ["k"], argument: .tenant, summary: "a tenant's API keys", optional: true),
        Spec(name: "audit", aliases: ["a"], argument: .tenant, summary: "a tenant's audit log, followed", optional: true),
        Spec(name: "usage", aliases: ["u"], argument: .tenant, summary: "key usage: :usage [T] [KEY]", optional: true),
        Spec(name: "expiring", aliases: [], argument: nil, summary: "keys expiring ≤7d or in grace"),
        Spec(name: "noisy", aliases: ["top"], argument: nil, summary: "tenants by share of requests"),
        Spec(name: "overview", aliases: ["o", "home"], argument: nil, summary: "every tenant"),
        Spec(name: "theme", aliases: [], argument: .theme, summary: "another theme"),
        Spec(name: "ctx", aliases: ["context"], argument: .context, summary: "another context"),
        Spec(name: "help", aliases: [], argument: nil, summary: "these keys"),
        Spec(name: "q", aliases: ["quit"], argument: nil, summary: "quit"),
    ]

    static var names: String { all.map(\.name).joined(separator: ", ") }

    static func spec(_ word: String) -> Spec? { all.first { $0.name == word || $0.aliases.contains(word) } }

    /// Parses what was typed after `:`. Errors name the value and the rule.
    public static func parse(_ text: String) -> Result<ConsoleCommand, CommandError> {
        let words = text.split(separator: " ").map(String.init)
        guard let first = words.first else { return .failure(CommandError("type a command: \(names)")) }
        guard let spec = spec(first) else {
            return .failure(CommandError("unknown command \(SafeText.quoted(first)): commands are \(names)"))
        }
        let args = Array(words.dropFirst())
        guard let argument = spec.argument else {
            if let extra = args.first { return .failure(CommandError(":\(spec.name) takes no argument; got \(SafeText.quoted(extra))")) }
            switch spec.name {
            case "noisy": return .success(.noisy)
            case "expiring": return .success(.expiring)
            case "overview": return .success(.overview)
            case "help": return .success(.help)
            default: return .success(.quit)
            }
        }
        if args.isEmpty, spec.optional {
            switch spec.name {
            case "audit": return .success(.audit(nil))
            case "usage": return .success(.usage(nil, nil))
            default: return .success(.keys(nil))
            }
        }
        if spec.name == "usage", args.count == 2 {
            do throws(ValidationError) { return .success(.usage(try TenantID(args[0]), try KeyID(args[1]))) } catch {
                return .failure(CommandError(error.description))
            }
        }
        guard args.count == 1 else {
            let what = argument == .tenant ? "a tenant id, e.g. :tenant acme" : argument == .theme ? "a theme name, e.g. :theme mono" : "a context name"
            return .failure(CommandError(args.isEmpty ? ":\(spec.name) needs \(what)" : ":\(spec.name) takes one argument; got \(args.count)"))
        }
        switch argument {
        case .tenant:
            do throws(ValidationError) {
                let t = try TenantID(args[0])
                switch spec.name {
                case "keys": return .success(.keys(t))
                case "audit": return .success(.audit(t))
                case "usage": return .success(.usage(t, nil))
                default: return .success(.tenant(t))
                }
            } catch {
                return .failure(CommandError(error.description))
            }
        case .theme: return .success(.theme(args[0]))
        case .context: return .success(.context(args[0]))
        }
    }

    /// Where completion looks for arguments.
    public struct Sources: Sendable {
        public let fleet: FleetDigest?
        public let themes: [String]
        public let contexts: [String]

        public init(fleet: FleetDigest?, themes: [String], contexts: [String]) {
            self.fleet = fleet
            self.themes = themes
            self.contexts = contexts
        }
    }

    /// Tab: completes the word being typed as far as the candidates agree, and lists them.
    public static func complete(_ text: String, _ sources: Sources) -> (text: String, candidates: [String]) {
        let endsWithSpace = text.hasSuffix(" ")
        var words = text.split(separator: " ").map(String.init)
        if endsWithSpace || words.isEmpty { words.append("") }
        let word = words.last!
        let candidates: [String]
        if words.count == 1 {
            candidates = all.map(\.name).filter { $0.hasPrefix(word) }
        } else if words.count == 2, let argument = spec(words[0])?.argument {
            switch argument {
            case .tenant: candidates = sources.fleet?.ids(startingWith: word, limit: 200).map(\.rawValue) ?? []
            case .theme: candidates = sources.themes.filter { $0.hasPrefix(word) }
            case .context: candidates = sources.contexts.filter { $0.hasPrefix(word) }
            }
        } else {
            candidates = []
        }
        guard !candidates.isEmpty else { return (text, []) }
        let common = candidates.dropFirst().reduce(candidates[0]) { $0.commonPrefix(with: $1) }
        words[words.count - 1] = common
        var completed = words.joined(separator: " ")
        if candidates.count == 1 && (words.count > 1 || spec(common)?.argument != nil) { completed += " " }
        return (completed, candidates.count == 1 ? [] : candidates)
    }
}

public struct CommandError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func commonPrefix(with other: String) -> String {
        String(zip(self, other).prefix { $0 == $1 }.map(\.0))
    }
}
