import Foundation

/// The git revision of the source tree this command was built from, so that a reproduction's
/// summary records which code its verdict came from. The tree is found from this file's path at
/// build time; where it is gone or is not a git checkout (an installed binary), the revision is
/// unknown and says so.
struct SourceRevision {
    /// The commit checked out (full hash).
    var commit: String
    /// Whether the library's sources (`Sources/`, `Package.swift`) had uncommitted changes: the
    /// verdict then came from code no commit holds.
    var hasUncommittedChanges: Bool

    /// The checkout's root: three folders above `Sources/inertia/Support/`.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The revision now checked out, or `nil` where git or the checkout is unavailable.
    static func current() -> SourceRevision? {
        guard let commit = git(["rev-parse", "HEAD"]), !commit.isEmpty,
            let status = git(["status", "--porcelain", "--", "Sources", "Package.swift"])
        else { return nil }
        return SourceRevision(commit: commit, hasUncommittedChanges: !status.isEmpty)
    }

    /// How many commits since `commit` changed the library's sources (`nil`: unknown, e.g. a
    /// commit this checkout does not have).
    static func sourceCommits(since commit: String) -> Int? {
        git(["rev-list", "--count", "\(commit)..HEAD", "--", "Sources", "Package.swift"]).flatMap { Int($0) }
    }

    /// The short spelling of `commit`, marked when the tree had uncommitted changes.
    static func label(commit: String, hasUncommittedChanges: Bool) -> String {
        String(commit.prefix(7)) + (hasUncommittedChanges ? "+changes" : "")
    }

    /// Runs git in the checkout; its trimmed standard output, or `nil` when it fails.
    private static func git(_ arguments: [String]) -> String? {
        guard FileManager.default.fileExists(atPath: root + "/.git") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
