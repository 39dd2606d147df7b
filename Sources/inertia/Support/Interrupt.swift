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
                let (exchanged, original) = Interrupt.signalNumber.compareExchange(
                    expected: 0, desired: received, ordering: .relaxed)
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
