import Foundation
import PackagePlugin

/// Compiles the theme files of `themes/` into the Views module, so a copied or installed binary
/// has every shipped theme without files beside it (docs/themes.md).
@main
struct EmbedThemes: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "themes")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "BuiltinThemes.swift")
        return [.buildCommand(displayName: "Embedding \(files.count) themes",
                              executable: try context.tool(named: "tollgate-embed-themes").url,
                              arguments: [output.path] + files.map(\.path),
                              inputFiles: files, outputFiles: [output])]
    }
}
