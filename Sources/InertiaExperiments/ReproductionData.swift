import Foundation
import InertiaData

extension FashionMNIST {
    /// The data set (from `directory`) for a reproduction's network checks, or `nil` with a note in
    /// `notes` that says why (not installed, or installed but unreadable, with the reader's error)
    /// and what goes unmeasured (`unmeasured`, e.g. "the MLP checks are inconclusive").
    static func forReproduction(
        directory: String = debianDirectory, unmeasured: String, notes: inout [String]
    ) -> (train: Dataset, test: Dataset)? {
        do { return try load(directory: directory) } catch DataError.fileNotFound {
            notes.append("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): \(unmeasured).")
        } catch {
            notes.append("Fashion-MNIST is installed but cannot be read (\(error)): \(unmeasured).")
        }
        return nil
    }
}
