/// `name=value` as given to `--set` and in `compare --optimizers` fields: split at the first `=`,
/// the name not empty; `nil` otherwise.
func nameValue<S: StringProtocol>(_ text: S) -> (name: String, value: String)? {
    let parts = text.split(separator: "=", maxSplits: 1)
    guard parts.count == 2, !parts[0].isEmpty else { return nil }
    return (String(parts[0]), String(parts[1]))
}
