import ArgumentParser
import Foundation
import Synchronization

/// Ctrl-C and SIGTERM handling for long commands: the first signal sets a flag that the loops
/// poll, so the command stops at the next step, writes what it has (a partial report, a
/// checkpoint) and exits with 128 + the signal (130, 143); a second signal exits at once.
enum Interrupt {
    private static let signalNumber = Atomic<Int32>(0)

    static var requested: Bool { signalNumber.load(ordering: .relaxed) != 0 }

    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number) { received in
                let (exchanged, original) = Interrupt.signalNumber.compareExchange(expected: 0, desired: received, ordering: .relaxed)
                if !exchanged { _exit(128 + original) }
            }
        }
    }

    /// Throws the exit status of the signal received, if one was: call it once the partial
    /// results are written.
    static func exitIfRequested() throws {
        let number = signalNumber.load(ordering: .relaxed)
        if number != 0 { throw ExitCode(128 + number) }
    }
}

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
