import ArgumentParser
import Foundation

/// A failure while running a command (not a usage error): printed as `Error: <message>`, exit
/// status 1, no usage line.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    /// An error thrown while a command runs, as the user should see it: exit statuses and
    /// failures pass through; a `ValidationError` (found only once the data is read) loses its
    /// usage line; a Foundation file error names the file and the reason instead of its domain
    /// and code.
    static func runtime(_ error: Error) -> Error {
        switch error {
        case is ExitCode, is CleanExit, is CommandFailure: return error
        case let error as ValidationError: return CommandFailure(error.message)
        case let error as CocoaError:
            let path = error.filePath ?? error.url?.path
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            return CommandFailure(path.map { "\($0): \(reason)" } ?? reason)
        default: return error
        }
    }
}
