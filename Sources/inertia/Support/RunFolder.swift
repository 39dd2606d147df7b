import Foundation

/// The folder a command writes into (`--out`), held for the command's lifetime: created if
/// missing, refused when it is a file, locked against a second run (an exclusive `flock` on
/// `.inertia.lock`, which holds the holder's pid), and cleared of the temporary files an
/// interrupted atomic write (kill -9) leaves behind. The lock is held until the process exits,
/// however it exits (the kernel drops it then): a command never gives its folder up early, even
/// where the optimizer ends this object's lifetime at its last use.
final class RunFolder {
    let path: String

    init(_ path: String, option: String = "--out") throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandFailure("\(option) \(path) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(
                "\(option) \(path): cannot create the folder (\((error as NSError).localizedFailureReason ?? "\(error)"))"
            )
        }
        let lockPath = path + "/.inertia.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CommandFailure("\(option) \(path): cannot create \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(fd)
            throw CommandFailure(
                "\(option) \(path) is in use by another inertia run (pid \(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")); "
                    + "wait for it or choose another \(option)")
        }
        let pid = "\(getpid())\n"
        ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.path = path
        removeStaleTemporaryFiles()
    }

    /// Files named `.<name>.tmp-<pid>-<random>` (`AtomicFile`'s temporaries): with the lock held,
    /// no live writer owns them.
    private func removeStaleTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// `path/<name>`.
    func file(_ name: String) -> String { path + "/" + name }
}
