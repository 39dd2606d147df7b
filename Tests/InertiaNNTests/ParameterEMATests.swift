import InertiaTensor
import XCTest

@testable import InertiaNN

final class ParameterEMATests: XCTestCase {
    func makeModel(seed: UInt64, hidden: Int = 5) -> Sequential {
        var rng = PhiloxGenerator(seed: seed)
        return Sequential(
            Linear(3, hidden, using: &rng), BatchNorm(hidden), Activation(.tanh), Linear(hidden, 2, using: &rng))
    }

    func testACloneHasTheValuesAndModeButItsOwnStorage() throws {
        let online = makeModel(seed: 1)
        online.eval()
        let copy = try online.cloned { makeModel(seed: 2) }
        XCTAssertFalse(copy.isTraining)
        for ((name, a), (_, b)) in zip(online.stateDictionary(), copy.stateDictionary()) { XCTAssertEqual(a, b, name) }
        copy.parameters[0].assign(Tensor.zeros(copy.parameters[0].shape))
        XCTAssertNotEqual(online.parameters[0].value, copy.parameters[0].value)
        XCTAssertThrowsError(try online.cloned { makeModel(seed: 3, hidden: 4) }) { error in
            XCTAssertEqual(error as? ModuleError, .shapeMismatch(name: "0.bias", expected: [4], found: [5]))
        }
    }

    /// With the online parameters held at `o`, `k` updates give `d^k t₀ + (1 − d^k) o`.
    func testUpdatesFollowTheClosedFormAndTheTargetGetsNoGradient() throws {
        let online = makeModel(seed: 4)
        let target = makeModel(seed: 5)
        let start = target.stateDictionary()
        let ema = ParameterEMA(target: target, decay: 0.9)
        XCTAssertTrue(target.parameters.allSatisfy { !$0.value.requiresGrad })
        var rng = PhiloxGenerator(seed: 6)
        let x = Tensor.uniform([4, 3], using: &rng)
        _ = online(x)  // moves BatchNorm's running statistics, which the update copies
        for _ in 0..<3 { try ema.update(from: online) }
        let weight = Float(0.9 * 0.9 * 0.9)
        let onlineState = Dictionary(uniqueKeysWithValues: online.stateDictionary().map { ($0.name, $0.value) })
        for (name, t0) in start {
            let now = target.stateDictionary().first { $0.name == name }!.value
            let o = onlineState[name]!
            if target.namedBuffers().contains(where: { $0.name == name }) {
                XCTAssertEqual(now, o, name)
            } else {
                for (a, (b, c)) in zip(now.scalars, zip(t0.scalars, o.scalars)) {
                    XCTAssertEqual(a, weight * b + (1 - weight) * c, accuracy: 1e-6, name)
                }
            }
        }
        (target(x).sum() + online(x).sum()).backward()
        XCTAssertTrue(target.parameters.allSatisfy { $0.grad == nil })
        XCTAssertNotNil(online.parameters[0].grad)
    }

    func testAMismatchedOnlineModuleThrowsAndChangesNothing() {
        let target = makeModel(seed: 7)
        let before = target.stateDictionary()
        let ema = ParameterEMA(target: target, decay: 0.5)
        XCTAssertThrowsError(try ema.update(from: makeModel(seed: 8, hidden: 6)))
        XCTAssertThrowsError(try ema.update(from: Sequential(Activation(.relu)))) { error in
            XCTAssertEqual(error as? ModuleError, .missingEntry("0.bias"))
        }
        for ((_, a), (_, b)) in zip(before, target.stateDictionary()) { XCTAssertEqual(a, b) }
    }
}
