import Foundation
import Synchronization

/// Ctrl-C handling for long commands: the first SIGINT sets a flag that the training loops poll,
/// so the command stops at the next step and writes a partial report; a second one exits at once.
enum Interrupt {
    private static let flag = Atomic<Int>(0)

    static var requested: Bool { flag.load(ordering: .relaxed) > 0 }

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.flag.wrappingAdd(1, ordering: .relaxed).oldValue > 0 { _exit(130) }
        }
    }
}
