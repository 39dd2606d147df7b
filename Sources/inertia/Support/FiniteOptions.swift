import ArgumentParser

/// Throws a usage error naming the first option whose value is NaN or infinite (`Double`
/// options parse "nan" and "inf"; no method here means anything by them).
func requireFinite(_ options: KeyValuePairs<String, Double?>) throws {
    for case (let name, let value?) in options where !value.isFinite {
        throw ValidationError("--\(name) must be a finite number, got \(value)")
    }
}
